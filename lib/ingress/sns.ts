// Amazon SNS messages (how SES publishes bounces, complaints and deliveries): signature, topic and secret checks.
import { createHash, createVerify, timingSafeEqual } from 'node:crypto';

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

// SNS's regional hosts: sns.<region>.amazonaws.com (.com.cn in China), a region such as us-east-1,
// us-gov-west-1 or cn-north-1; "sns.s3.amazonaws.com" is an S3 bucket anyone could own
const SNS_HOST = /^sns\.[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}\.amazonaws\.com(\.cn)?$/;
// the name SNS gives its signing certificates
const SNS_CERTIFICATE_PATH = /^\/SimpleNotificationService-[0-9a-f]{32}\.pem$/;

/** An https URL on one of SNS's own hosts; any other URL is an attacker's. */
export function isSnsUrl(url: string): boolean {
  try {
    const u = new URL(url);
    return u.protocol === 'https:' && u.port === '' && u.username === '' && SNS_HOST.test(u.hostname);
  } catch {
    return false;
  }
}

/** A signing certificate's URL as SNS writes it: its host, its certificate path, nothing else. */
export function isSnsCertificateUrl(url: string): boolean {
  if (!isSnsUrl(url)) return false;
  const u = new URL(url);
  return u.search === '' && u.hash === '' && SNS_CERTIFICATE_PATH.test(u.pathname);
}

/** Whether the query's secret is the one expected, in time that does not depend on where they differ. */
export function sameSecret(given: string | null, expected: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given ?? ''), digest(expected)) && given !== null;
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

// a few certificates are in use at a time (one per region and rotation); more means someone is trying
const MAX_CACHED_CERTIFICATES = 32;
const certificates = new Map<string, Promise<string>>();

export type SnsVerdict = { ok: true; message: SnsMessage } | { ok: false; reason: string };

/** Verifies an SNS request: shared secret (if any), allowed topic, then the RSA signature over the fields. */
export async function verifySnsRequest(
  check: SnsCheck,
  body: string,
  query: URLSearchParams,
): Promise<SnsVerdict> {
  if (check.secret !== undefined && !sameSecret(query.get('secret'), check.secret))
    return { ok: false, reason: 'wrong or missing secret' };
  const message = parseSnsMessage(body);
  if (!message) return { ok: false, reason: 'not an SNS message' };
  if (!check.topicArns.includes(message.TopicArn))
    return { ok: false, reason: `topic ${message.TopicArn} is not accepted` };
  if (!isSnsCertificateUrl(message.SigningCertURL))
    return { ok: false, reason: 'the signing certificate is not an SNS certificate on an SNS host' };
  const algorithm =
    message.SignatureVersion === '1'
      ? 'RSA-SHA1'
      : message.SignatureVersion === '2'
        ? 'RSA-SHA256'
        : undefined;
  if (!algorithm) return { ok: false, reason: `unknown signature version ${message.SignatureVersion}` };
  let certificate = certificates.get(message.SigningCertURL);
  if (!certificate) {
    if (certificates.size >= MAX_CACHED_CERTIFICATES) certificates.clear();
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

/** A certificate is about 2 KB, a subscription confirmation's answer smaller: anything larger is refused. */
const MAX_SNS_ANSWER_BYTES = 64 * 1024;

/** Plain https GET for SNS URLs only (certificates, subscription confirmations): no redirects, bounded. */
export async function fetchSnsText(url: string): Promise<string> {
  if (!isSnsUrl(url)) throw new Error(`refusing to fetch ${url}: not an SNS URL`);
  return fetchBoundedText(url, MAX_SNS_ANSWER_BYTES);
}

/** The answer's text, refused past `maxBytes` (read so far, not as announced) or 10 s; redirects are errors. */
export async function fetchBoundedText(url: string, maxBytes: number): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(10_000), redirect: 'error' });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.length;
    // leaving the loop cancels the body: nothing more is read
    if (size > maxBytes) throw new Error(`GET ${url} answered more than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
