// Amazon SES v2 SendEmail: HTML and text parts, per-company from and reply-to, List-Unsubscribe headers, a configuration set.
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import type { EmailInput, EmailProvider, ProviderEvent, SendResult } from './types';
import { networkError, ProviderError } from './errors';

export interface SesEmailOptions {
  account: string;
  region: string;
  /** a local emulator or a VPC endpoint; unset = AWS's own */
  endpoint?: string;
  /** unset = the AWS SDK's default chain (environment, profile, instance role) */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** routes bounce, complaint and delivery events to our ingress */
  configurationSet?: string;
  timeoutMs?: number;
}

/** SES error names that say our account or set-up is wrong, not the message: retry and fail over. */
const ACCOUNT_PROBLEMS = new Set([
  'AccountSuspendedException',
  'SendingPausedException',
  'NotFoundException',
  'MailFromDomainNotVerifiedException',
]);
const THROTTLING = new Set([
  'TooManyRequestsException',
  'LimitExceededException',
  'ThrottlingException',
  'Throttling',
]);

export function classifySesError(err: unknown): ProviderError {
  if (err instanceof ProviderError) return err;
  const aws = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = aws.$metadata?.httpStatusCode;
  const name = aws.name ?? 'Error';
  if (status === undefined) return networkError(err, 'SES');
  const message = `SES refused the email (HTTP ${status} ${name}${aws.message ? `: ${aws.message}` : ''})`;
  const details = { code: name, httpStatus: status, cause: err };
  if (status === 429 || THROTTLING.has(name))
    return new ProviderError(message, { ...details, kind: 'throttled', maybeAccepted: false });
  if (status >= 500)
    return new ProviderError(message, { ...details, kind: 'unavailable', maybeAccepted: status !== 503 });
  if (status === 401 || status === 403 || ACCOUNT_PROBLEMS.has(name)) {
    return new ProviderError(message, { ...details, kind: 'unavailable', maybeAccepted: false });
  }
  return new ProviderError(message, { ...details, kind: 'rejected', maybeAccepted: false });
}

/** A display name as RFC 5322 allows it: quoted when ASCII, RFC 2047 encoded otherwise. */
export function formatAddress(address: string, name?: string): string {
  if (!name) return address;
  if (/^[\x20-\x7E]*$/.test(name)) return `"${name.replace(/["\\]/g, '\\$&')}" <${address}>`;
  return `=?UTF-8?B?${Buffer.from(name, 'utf8').toString('base64')}?= <${address}>`;
}

export function createSesEmail(opts: SesEmailOptions): EmailProvider {
  const client = new SESv2Client({
    region: opts.region,
    endpoint: opts.endpoint,
    credentials: opts.credentials,
    // one attempt per call: SendEmail is not idempotent, so retries belong to Temporal and reconciliation
    maxAttempts: 1,
    requestHandler: { requestTimeout: opts.timeoutMs ?? 15_000 },
  });

  return {
    kind: 'ses',
    channel: 'email',
    account: opts.account,

    async send(input: EmailInput): Promise<SendResult> {
      const charset = 'UTF-8';
      const command = new SendEmailCommand({
        FromEmailAddress: formatAddress(input.from, input.fromName),
        Destination: { ToAddresses: [input.to] },
        ReplyToAddresses: input.replyTo ? [input.replyTo] : undefined,
        Content: {
          // Simple content carries custom headers (List-Unsubscribe) since 2024, so no MIME is built by hand
          Simple: {
            Subject: { Data: input.subject, Charset: charset },
            Body: {
              Html: { Data: input.html, Charset: charset },
              Text: { Data: input.text, Charset: charset },
            },
            Headers: input.headers.map((h) => ({ Name: h.name, Value: h.value })),
          },
        },
        ConfigurationSetName: opts.configurationSet,
        EmailTags: Object.entries(input.tags ?? {}).map(([Name, Value]) => ({ Name, Value })),
      });
      try {
        const result = await client.send(command);
        if (!result.MessageId)
          throw new ProviderError('SES answered without a MessageId', {
            kind: 'unavailable',
            maybeAccepted: true,
          });
        return { providerMessageId: result.MessageId, status: 'accepted' };
      } catch (err) {
        throw classifySesError(err);
      }
    },

    /** SES events arrive as SNS notifications whose Message is the event JSON. */
    parseCallback(params: Record<string, string>): ProviderEvent {
      const event = JSON.parse(params.Message ?? '{}') as {
        eventType?: string;
        notificationType?: string;
        mail?: { messageId?: string };
        bounce?: { bounceType?: string; feedbackId?: string };
        complaint?: { feedbackId?: string };
        delivery?: { timestamp?: string };
      };
      const type = event.eventType ?? event.notificationType ?? 'Unknown';
      const id = event.mail?.messageId ?? '';
      const feedback =
        event.bounce?.feedbackId ?? event.complaint?.feedbackId ?? event.delivery?.timestamp ?? '';
      const state =
        type === 'Delivery'
          ? 'delivered'
          : type === 'Bounce' && event.bounce?.bounceType === 'Permanent'
            ? 'undelivered'
            : undefined;
      return {
        providerMessageId: id,
        eventId: `${id}:${type}:${feedback}`,
        eventType: `email.${type.toLowerCase()}`,
        state,
        optOut: type === 'Complaint' || (type === 'Bounce' && event.bounce?.bounceType === 'Permanent'),
        payload: event as Record<string, unknown>,
      };
    },
  };
}
