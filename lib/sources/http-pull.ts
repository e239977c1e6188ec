// Opens an API source's response as a stream: secret headers from the environment, status and content type checked first.
import { readFile } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { ApiSourceConfig } from '../../schemas/ingest-source';
import { SourceError } from './errors';
import { isPublicAddress, publicOnlyLookup } from './public-address';
import { resolveValues, type SecretEnv } from './secrets';

/** Content types each format is accepted under; a missing type is accepted, anything else refused. */
const ACCEPTED_TYPES: Record<ApiSourceConfig['format'], RegExp> = {
  csv: /^(text\/(csv|plain|comma-separated-values)|application\/(csv|vnd\.ms-excel|octet-stream))$/,
  json: /^(application\/(json|[\w.+-]+\+json|octet-stream)|text\/(json|plain))$/,
  ndjson: /^(application\/(x-ndjson|ndjson|jsonl|x-jsonlines|jsonlines|json|octet-stream)|text\/plain)$/,
};

export const FORMAT_EXTENSIONS: Record<ApiSourceConfig['format'], string> = {
  csv: 'csv',
  json: 'json',
  ndjson: 'ndjson',
};

export interface OpenedResponse {
  stream: IncomingMessage;
  contentType: string | undefined;
  /** bytes of the whole answer, when the server said (a partial answer says it in Content-Range) */
  contentLength: number | undefined;
  /** the byte the stream starts at: the one asked for when the server sent that range, else 0 */
  offset: number;
  /**
   * What a later request can resume this answer with (If-Range): a strong ETag or else Last-Modified,
   * and only when the server advertises `Accept-Ranges: bytes`; empty when it cannot be resumed.
   */
  validator: string;
}

/** Asks for the answer from `offset` on, only while it is still the one `validator` names. */
export interface ResumeAt {
  offset: number;
  validator: string;
}

const MAX_REDIRECTS = 5;
/** plain http is accepted only to this machine (a sidecar or a tunnel), as for a source's own URL */
const LOCAL_HOSTS = ['localhost', '127.0.0.1', '[::1]'];
const TLS_TRUST_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/;

function get(
  url: URL,
  headers: Record<string, string>,
  ca: Buffer | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
  publicOnly = false,
): Promise<IncomingMessage> {
  const transport = url.protocol === 'https:' ? https : http;
  // a name is checked where it is resolved for the connection; an address literal is never resolved
  const lookup = publicOnly ? publicOnlyLookup(refusedAddress(url)) : undefined;
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (publicOnly && isIP(literal) && !isPublicAddress(literal))
    return Promise.reject(refusedAddress(url)(url.hostname, literal));
  return new Promise((resolve, reject) => {
    const request = transport.get(url, { headers, ca, timeout: timeoutMs, signal, lookup }, resolve);
    request.once('timeout', () => request.destroy(new Error(`no answer within ${timeoutMs / 1000} s`)));
    request.once('error', (err: NodeJS.ErrnoException) => {
      if (err instanceof SourceError) reject(err);
      // an untrusted certificate stays untrusted on retry: a person must fix the server or name its CA
      else if (typeof err.code === 'string' && TLS_TRUST_CODES.test(err.code)) {
        reject(
          new SourceError(
            'TlsCertificate',
            `${url.origin} presented a certificate this worker does not trust (${err.code}: ${err.message}); if the company uses its own certificate authority, set caFile on the source`,
            true,
            { cause: err },
          ),
        );
      } else {
        reject(
          new SourceError(
            'HttpConnection',
            `cannot fetch ${url.origin}${url.pathname}: ${err.message}`,
            false,
            { cause: err },
          ),
        );
      }
    });
  });
}

function refusedAddress(url: URL) {
  return (hostname: string, address: string) =>
    new SourceError(
      'RedirectRefused',
      `a redirect led to ${url.origin}, and ${hostname} is ${address}, not a public address; if the source really moves there, add ${url.hostname} to its redirectHosts`,
      true,
    );
}

/**
 * Where a redirect may lead: the source's own origin; a host the source lists in `redirectHosts`; or
 * else only https on a public address (checked when the name is resolved for the connection), so
 * a company's server cannot point herald at its own network or at plain http.
 */
function redirectPolicy(config: ApiSourceConfig, origin: string, next: URL): 'own' | 'listed' | 'public' {
  if (next.origin === origin) return 'own';
  const local = next.protocol === 'http:' && LOCAL_HOSTS.includes(next.hostname);
  if (next.protocol !== 'https:' && !local)
    throw new SourceError(
      'RedirectRefused',
      `a redirect led to ${next.origin}, which is not https; nothing was fetched from it`,
      true,
    );
  return config.redirectHosts.includes(next.hostname) ? 'listed' : 'public';
}

function statusError(url: URL, response: IncomingMessage): SourceError {
  const status = response.statusCode ?? 0;
  response.resume();
  // 408 and 429 say "later"; other 4xx need a person (wrong URL, credentials, permissions)
  const permanent = status >= 400 && status < 500 && status !== 408 && status !== 429;
  return new SourceError(
    'HttpStatus',
    `${url.origin}${url.pathname} answered ${status} ${response.statusMessage ?? ''}`.trim() +
      (permanent ? ": check the source's URL and credentials" : '; will retry'),
    permanent,
  );
}

function resumeValidator(response: IncomingMessage): string {
  if (!/\bbytes\b/i.test(String(response.headers['accept-ranges'] ?? ''))) return '';
  const etag = response.headers.etag;
  // a weak ETag may not be used in If-Range
  if (etag && !etag.startsWith('W/')) return etag;
  return response.headers['last-modified'] ?? '';
}

/** Where a 206 answer starts and how long the whole answer is, from its Content-Range. */
function contentRange(response: IncomingMessage): { start: number; total: number | undefined } | undefined {
  const match = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(String(response.headers['content-range'] ?? '').trim());
  return match
    ? { start: Number(match[1]), total: match[2] === '*' ? undefined : Number(match[2]) }
    : undefined;
}

/**
 * GETs the source's URL, following up to five redirects (see redirectPolicy); secret headers never
 * follow a redirect to another host. With `resume`, asks for the rest of an answer (Range with If-Range): a server that
 * answers in full instead (the content changed, or it does not do ranges) gives a stream at offset 0.
 */
export async function openApiSource(
  config: ApiSourceConfig,
  opts: { secrets: SecretEnv; signal?: AbortSignal; resume?: ResumeAt },
): Promise<OpenedResponse> {
  const ca = config.caFile ? await readFile(config.caFile) : undefined;
  const configured = resolveValues(config.headers, 'header', opts.secrets);
  let url = new URL(config.url);
  for (const [name, value] of Object.entries(resolveValues(config.query, 'query parameter', opts.secrets)))
    url.searchParams.set(name, value);
  const origin = url.origin;
  let publicOnly = false;
  for (let hop = 0; ; hop += 1) {
    const sameOrigin = url.origin === origin;
    const headers = sameOrigin
      ? configured
      : (Object.fromEntries(
          Object.entries(config.headers).filter(([, v]) => typeof v === 'string'),
        ) as Record<string, string>);
    const ranged: Record<string, string> = opts.resume
      ? { range: `bytes=${opts.resume.offset}-`, 'if-range': opts.resume.validator }
      : {};
    const response = await get(
      url,
      { 'user-agent': 'herald-ingest', ...headers, ...ranged },
      ca,
      config.timeoutSeconds * 1000,
      opts.signal,
      publicOnly,
    );
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location && hop < MAX_REDIRECTS) {
      response.resume();
      url = new URL(response.headers.location, url);
      publicOnly = redirectPolicy(config, origin, url) === 'public';
      continue;
    }
    const range = status === 206 ? contentRange(response) : undefined;
    if (opts.resume && (status === 416 || (status === 206 && range?.start !== opts.resume.offset))) {
      // the range does not fit the answer any more: ask for all of it
      response.resume();
      return openApiSource(config, { ...opts, resume: undefined });
    }
    if (status < 200 || status >= 300) throw statusError(url, response);
    const contentType = response.headers['content-type']?.split(';')[0]?.trim().toLowerCase() || undefined;
    if (contentType && !ACCEPTED_TYPES[config.format].test(contentType)) {
      response.resume();
      throw new SourceError(
        'WrongContentType',
        `${url.origin}${url.pathname} sent ${contentType}, but the source expects ${config.format}` +
          (contentType === 'text/html' ? ' (an HTML page is often a login or error page)' : ''),
        true,
      );
    }
    const length = range ? range.total : Number(response.headers['content-length']);
    return {
      stream: response,
      contentType,
      contentLength: length !== undefined && Number.isFinite(length) ? length : undefined,
      offset: range?.start ?? 0,
      validator: resumeValidator(response),
    };
  }
}
