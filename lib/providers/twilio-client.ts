// One Twilio REST client per account, optionally pointed at another base URL, and Twilio errors classified.
import http from 'node:http';
import https from 'node:https';
import twilio from 'twilio';
import type TwilioRequestClient from 'twilio/lib/base/RequestClient';
import type TwilioResponse from 'twilio/lib/http/response';
import { networkError, ProviderError, statusProvesNotAccepted } from './errors';

export interface TwilioSettings {
  accountSid: string;
  authToken: string;
  /** e.g. http://127.0.0.1:4010: every *.twilio.com request goes there instead (a proxy or a stand-in) */
  apiBaseUrl?: string;
  /** per-request timeout; a send that times out is reconciled before any resend */
  timeoutMs?: number;
}

type Params = Record<string, unknown>;

/** Form and query encoding as the SDK's own client does it: repeated keys for arrays. */
function encode(values: Params | undefined): string {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(values ?? {})) {
    if (value === undefined || value === null) continue;
    for (const v of Array.isArray(value) ? value : [value]) form.append(key, String(v));
  }
  return form.toString();
}

/**
 * The SDK's `httpClient` extension point, with two changes: an optional base URL that every
 * *.twilio.com request goes to instead (a proxy or a stand-in), and node:http with pooled
 * keep-alive sockets instead of axios, which costs about half a millisecond of CPU per request:
 * too much at thousands of sends a second. Request building, auth, paging and errors stay the SDK's.
 */
export class TwilioHttpClient extends twilio.RequestClient {
  private readonly base: URL | undefined;
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(opts: TwilioRequestClient.RequestClientOptions & { baseUrl?: string } = {}) {
    super(opts);
    this.base = opts.baseUrl ? new URL(opts.baseUrl) : undefined;
    const pool = { keepAlive: true, maxSockets: opts.maxSockets ?? 256 };
    this.agents = { http: new http.Agent(pool), https: new https.Agent(pool) };
  }

  /** Targets of URIs without a query (every create of an account goes to one): parsed once. */
  private readonly targets = new Map<string, URL>();
  private readonly basicAuth = new Map<string, string>();

  private target(uri: string, params: Params | undefined): URL {
    const plain = !params || Object.keys(params).length === 0;
    const known = plain ? this.targets.get(uri) : undefined;
    if (known) return known;
    let url = new URL(uri);
    if (this.base && url.hostname.endsWith('twilio.com')) {
      url = new URL(
        `${this.base.origin}${this.base.pathname.replace(/\/$/, '')}${url.pathname}${url.search}`,
      );
    }
    const query = plain ? '' : encode(params);
    if (query) url.search = url.search ? `${url.search}&${query}` : query;
    else if (this.targets.size < 64) this.targets.set(uri, url);
    return url;
  }

  override async request<TData>(
    opts: TwilioRequestClient.RequestOptions<TData>,
  ): Promise<TwilioResponse<TData>> {
    const url = this.target(opts.uri, opts.params as Params | undefined);
    const headers: Record<string, string> = { ...(opts.headers as Record<string, string> | undefined) };
    if (opts.username && opts.password) {
      const credentials = `${opts.username}:${opts.password}`;
      let basic = this.basicAuth.get(credentials);
      if (!basic)
        this.basicAuth.set(credentials, (basic = `Basic ${Buffer.from(credentials).toString('base64')}`));
      headers.Authorization = basic;
    } else if (opts.authStrategy) {
      headers.Authorization = await opts.authStrategy.getAuthString();
    }
    let body: string | undefined;
    if (opts.data !== undefined) {
      body =
        headers['Content-Type'] === 'application/json'
          ? JSON.stringify(opts.data)
          : encode(opts.data as Params);
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const secure = url.protocol === 'https:';
    const timeout = opts.timeout ?? this.defaultTimeout;
    return new Promise<TwilioResponse<TData>>((resolve, reject) => {
      const req = (secure ? https : http).request(
        url,
        {
          method: opts.method.toUpperCase(),
          headers,
          agent: secure ? this.agents.https : this.agents.http,
          timeout,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            // a string body: the SDK parses it itself
            resolve({
              statusCode: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              headers: res.headers,
            } as unknown as TwilioResponse<TData>),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () =>
        req.destroy(
          Object.assign(new Error(`no answer from Twilio in ${timeout} ms`), { code: 'ETIMEDOUT' }),
        ),
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}

export function createTwilioClient(settings: TwilioSettings): twilio.Twilio {
  const httpClient = new TwilioHttpClient({
    timeout: settings.timeoutMs ?? 15_000,
    baseUrl: settings.apiBaseUrl,
  });
  // retries belong to Temporal, where they are visible and reconciled: the SDK's autoRetry stays off
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
export function twilioStatusToState(
  status: string | undefined,
): 'sent' | 'delivered' | 'undelivered' | 'failed' | undefined {
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
