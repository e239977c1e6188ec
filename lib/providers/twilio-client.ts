// One Twilio REST client per account, optionally pointed at another base URL, and Twilio errors classified.
import http from 'node:http';
import twilio from 'twilio';
import type TwilioRequestClient from 'twilio/lib/base/RequestClient';
import { networkError, ProviderError, statusProvesNotAccepted } from './errors';

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** e.g. http://127.0.0.1:4010: every *.twilio.com request goes there instead (a proxy or a stand-in) */
  apiBaseUrl?: string;
  /** per-request timeout; a send that times out is reconciled before any resend */
  timeoutMs?: number;
}

/**
 * The SDK's own request client with the scheme and host of every Twilio URL replaced. It is the
 * SDK's documented `httpClient` extension point, so request building, auth and paging stay the
 * SDK's; only where the bytes go changes.
 */
export class BaseUrlRequestClient extends twilio.RequestClient {
  private readonly base: URL;

  constructor(baseUrl: string, opts: TwilioRequestClient.RequestClientOptions = {}) {
    super(opts);
    this.base = new URL(baseUrl);
    // the SDK only configures an https agent; a plain-http base needs its own pooled one
    this.axios.defaults.httpAgent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  }

  override request<TData>(opts: TwilioRequestClient.RequestOptions<TData>) {
    const target = new URL(opts.uri);
    if (target.hostname.endsWith('twilio.com')) {
      const prefix = this.base.pathname.replace(/\/$/, '');
      opts = { ...opts, uri: `${this.base.origin}${prefix}${target.pathname}${target.search}` };
    }
    return super.request(opts);
  }
}

export function createTwilioClient(settings: TwilioSettings): twilio.Twilio {
  const timeout = settings.timeoutMs ?? 15_000;
  const httpClient = settings.apiBaseUrl
    ? new BaseUrlRequestClient(settings.apiBaseUrl, { timeout, keepAlive: true })
    : new twilio.RequestClient({ timeout, keepAlive: true, maxSockets: 256 });
  // autoRetry stays off: retries belong to Temporal, where they are visible and reconciled
  return twilio(settings.accountSid, settings.authToken, { httpClient });
}

/** Twilio error codes that mean the recipient opted out: the contact must not be texted again. */
const OPT_OUT_CODES = new Set([21610]);

interface TwilioRestError {
  status?: number;
  code?: number;
  message?: string;
  moreInfo?: string;
}

/** Turns whatever the SDK threw into a ProviderError, by HTTP status and Twilio code only. */
export function classifyTwilioError(err: unknown, what: string): ProviderError {
  if (err instanceof ProviderError) return err;
  const rest = err as TwilioRestError;
  if (typeof rest.status !== 'number') return networkError(err, 'Twilio');
  const status = rest.status;
  const code = rest.code !== undefined ? String(rest.code) : undefined;
  const message = `Twilio refused the ${what} (HTTP ${status}${rest.message ? `: ${rest.message}` : ''})`;
  if (status === 429) {
    return new ProviderError(message, {
      kind: 'throttled',
      maybeAccepted: false,
      code,
      httpStatus: status,
      cause: err,
    });
  }
  // 401/403 are our account's problem, not the message's: retry, fail over, never fail the message
  if (status >= 500 || status === 401 || status === 403) {
    return new ProviderError(message, {
      kind: 'unavailable',
      maybeAccepted: !statusProvesNotAccepted(status),
      code,
      httpStatus: status,
      cause: err,
    });
  }
  return new ProviderError(message, {
    kind: 'rejected',
    maybeAccepted: false,
    code,
    httpStatus: status,
    optOut: rest.code !== undefined && OPT_OUT_CODES.has(rest.code),
    cause: err,
  });
}

/** Twilio's callbacks and lists name the same message states in its own words. */
export function twilioStatusToState(status: string | undefined): 'sent' | 'delivered' | 'undelivered' | 'failed' | undefined {
  switch (status) {
    case 'queued':
    case 'accepted':
    case 'sending':
    case 'sent':
    case 'scheduled':
      return 'sent';
    case 'delivered':
    case 'read':
      return 'delivered';
    case 'undelivered':
      return 'undelivered';
    case 'failed':
    case 'canceled':
      return 'failed';
    default:
      return undefined;
  }
}
