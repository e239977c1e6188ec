// Amazon SNS messages (how SES publishes bounces, complaints and deliveries): signature, topic and secret checks.
import { createVerify } from 'node:crypto';

export interface SnsMessage {
  Type: 'Notification' | 'SubscriptionConfirmation' | 'UnsubscribeConfirmation';
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  Signature: string;
  SignatureVersion: string;
  SigningCertURL: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
}

export interface SnsCheck {
  /** only these topics are accepted (SES_SNS_TOPIC_ARNS); none = every SNS request is refused */
  topicArns: readonly string[];
  /** when set, the subscription URL must carry ?secret=<it> (SES_SNS_SECRET), a second lock besides the signature */
  secret?: string;
  /** fetches an https URL of AWS (the signing certificate, the subscription confirmation); given in, so it can be swapped */
  fetchText(url: string): Promise<string>;
}

/** SNS signs with certificates served only from its own hosts; any other URL is an attacker's. */
export function isSnsUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && /^sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/.test(u.hostname);
  } catch {
    return false;
  }
}

/** The string SNS signs: named fields in a fixed order, each as "Name\nvalue\n" (AWS SNS docs). */
export function snsStringToSign(m: SnsMessage): string {
  const fields =
    m.Type === 'Notification'
      ? [
          'Message',
          'MessageId',
          ...(m.Subject !== undefined ? ['Subject'] : []),
          'Timestamp',
          'TopicArn',
          'Type',
        ]
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  return fields.map((f) => `${f}\n${String((m as unknown as Record<string, unknown>)[f] ?? '')}\n`).join('');
}

export function parseSnsMessage(body: string): SnsMessage | undefined {
  try {
    const m = JSON.parse(body) as Partial<SnsMessage>;
    const required = [
      'Type',
      'MessageId',
      'TopicArn',
      'Message',
      'Timestamp',
      'Signature',
      'SignatureVersion',
      'SigningCertURL',
    ] as const;
    return required.every((k) => typeof m[k] === 'string') ? (m as SnsMessage) : undefined;
  } catch {
    return undefined;
  }
}

const certificates = new Map<string, Promise<string>>();

export type SnsVerdict = { ok: true; message: SnsMessage } | { ok: false; reason: string };

/** Verifies an SNS request: shared secret (if any), allowed topic, then the RSA signature over the fields. */
export async function verifySnsRequest(
  check: SnsCheck,
  body: string,
  query: URLSearchParams,
): Promise<SnsVerdict> {
  if (check.secret !== undefined && query.get('secret') !== check.secret)
    return { ok: false, reason: 'wrong or missing secret' };
  const message = parseSnsMessage(body);
  if (!message) return { ok: false, reason: 'not an SNS message' };
  if (!check.topicArns.includes(message.TopicArn))
    return { ok: false, reason: `topic ${message.TopicArn} is not accepted` };
  if (!isSnsUrl(message.SigningCertURL))
    return { ok: false, reason: 'the signing certificate is not on an SNS host' };
  const algorithm =
    message.SignatureVersion === '1'
      ? 'RSA-SHA1'
      : message.SignatureVersion === '2'
        ? 'RSA-SHA256'
        : undefined;
  if (!algorithm) return { ok: false, reason: `unknown signature version ${message.SignatureVersion}` };
  let certificate = certificates.get(message.SigningCertURL);
  if (!certificate) {
    certificate = check.fetchText(message.SigningCertURL);
    certificates.set(message.SigningCertURL, certificate);
    certificate.catch(() => certificates.delete(message.SigningCertURL));
  }
  const verifier = createVerify(algorithm);
  verifier.update(snsStringToSign(message), 'utf8');
  let valid = false;
  try {
    valid = verifier.verify(await certificate, message.Signature, 'base64');
  } catch {
    valid = false;
  }
  return valid ? { ok: true, message } : { ok: false, reason: 'bad signature' };
}

/** Plain https GET for SNS URLs only (certificates, subscription confirmations). */
export async function fetchSnsText(url: string): Promise<string> {
  if (!isSnsUrl(url)) throw new Error(`refusing to fetch ${url}: not an SNS URL`);
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.text();
}
