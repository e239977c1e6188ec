// How a vendor's refusal is classified, so dispatch decides retry, backoff or failure by kind, never by text.

/**
 * - throttled: the vendor asked us to slow down (429); nothing was accepted, the message waits.
 * - unavailable: the vendor (or the way to it) is failing; retried with backoff, then failed over.
 * - rejected: the vendor refused this message for good (invalid number, unsubscribed, bad address).
 */
export type ProviderErrorKind = 'throttled' | 'unavailable' | 'rejected';

export interface ProviderErrorDetails {
  kind: ProviderErrorKind;
  /**
   * Whether the vendor might have accepted the message even so (a timeout, a reset connection, a
   * 500 from behind a load balancer). Such a message is reconciled before it is ever sent again.
   */
  maybeAccepted: boolean;
  /** the vendor's error code (Twilio 21211, SES MessageRejected...) */
  code?: string;
  httpStatus?: number;
  /** the vendor's Retry-After, when it gave one */
  retryAfterMs?: number;
  /** the recipient has opted out at the vendor (Twilio 21610): set do_not_* on the contact */
  optOut?: boolean;
  cause?: unknown;
}

export class ProviderError extends Error {
  override readonly name = 'ProviderError';
  readonly kind: ProviderErrorKind;
  readonly maybeAccepted: boolean;
  readonly code: string | undefined;
  readonly httpStatus: number | undefined;
  readonly retryAfterMs: number | undefined;
  readonly optOut: boolean;

  constructor(message: string, details: ProviderErrorDetails) {
    super(message, { cause: details.cause });
    this.kind = details.kind;
    this.maybeAccepted = details.maybeAccepted;
    this.code = details.code;
    this.httpStatus = details.httpStatus;
    this.retryAfterMs = details.retryAfterMs;
    this.optOut = details.optOut ?? false;
  }

  /** the reason stored on a failed message: vendor code first, so operators can look it up */
  get reason(): string {
    const code = this.code ? `${this.code}: ` : '';
    return `${code}${this.message}`;
  }
}

/** Node's network error codes that prove the request never reached the vendor. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** A failure with no HTTP answer: refused connections are safe to resend, anything later is not. */
export function networkError(err: unknown, vendor: string): ProviderError {
  const code = (err as { code?: string }).code;
  const refused = code !== undefined && NOT_CONNECTED.has(code);
  return new ProviderError(`${vendor} could not be reached (${code ?? (err as Error).message})`, {
    kind: 'unavailable',
    maybeAccepted: !refused,
    code,
    cause: err,
  });
}

/** HTTP statuses at which a vendor says plainly it did not take the request. */
export function statusProvesNotAccepted(status: number): boolean {
  return status === 429 || status === 503 || (status >= 400 && status < 500);
}

export function parseRetryAfter(value: unknown): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(String(value));
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}
