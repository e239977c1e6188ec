// A local HTTP stand-in for Twilio's 2010-04-01 REST API (Messages and Calls): it records every request
// with its exact form payload and arrival time, answers in Twilio's JSON shapes, and can be told to fail.
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { analyzeSms } from '../../lib/sms/segments';

export type Resource = 'Messages' | 'Calls';

export interface RecordedRequest {
  method: string;
  resource: Resource;
  path: string;
  /** form fields of a create; repeated keys (StatusCallbackEvent) as arrays */
  form: Record<string, string | string[]>;
  query: Record<string, string>;
  auth: { user: string; password: string } | undefined;
  /** epoch milliseconds, sub-millisecond precision, taken when the request arrived */
  arrivedAt: number;
  /** the status the stand-in answered */
  answered: number;
}

/** A scripted answer: the next `times` matching creates get this error instead of success. */
export interface ScriptedFailure {
  resource?: Resource;
  to?: string;
  status: number;
  code?: number;
  message?: string;
  times: number;
}

type Stored = Record<string, unknown> & { sid: string; to: string; from: string | null; arrivedAt: number };

export interface TwilioStandin {
  url: string;
  accountSid: string;
  authToken: string;
  requests: RecordedRequest[];
  messages: Stored[];
  calls: Stored[];
  script: ScriptedFailure[];
  /** answer 429 (code 20429) whenever more than this many creates arrived in the last second */
  rateLimitPerSecond?: number;
  /** a slow vendor: a create is accepted on arrival and answered this much later */
  answerDelayMs?: number;
  /** a hanging vendor: creates are accepted on arrival and never answered (lists still answer) */
  hangCreates?: boolean;
  /** creates accepted (2xx) so far, in arrival order */
  accepted(resource?: Resource): RecordedRequest[];
  /** arrival times and senders of accepted creates (kept even in lean mode) */
  arrivals: { at: number[]; from: string[] };
  close(): Promise<void>;
}

const hex = (n: number) => randomBytes(n).toString('hex');
/** Twilio's dates are RFC 2822 in UTC. */
const rfc2822 = (ms: number) => new Date(ms).toUTCString().replace('GMT', '+0000');
const E164 = /^\+[1-9]\d{6,14}$/;

function formToObject(params: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(params.keys())) {
    const all = params.getAll(key);
    out[key] = all.length === 1 ? all[0]! : all;
  }
  return out;
}

function twilioError(res: http.ServerResponse, status: number, code: number, message: string): number {
  return json(res, status, {
    code,
    message,
    more_info: `https://www.twilio.com/docs/errors/${code}`,
    status,
  });
}

/** How a create's answer goes out: later (a slow vendor) or never (a hanging one). */
const pacing = new WeakMap<http.ServerResponse, { delayMs?: number; hang?: boolean }>();

/** Answers at once, or as its pacing says; returns the status either way. */
function json(res: http.ServerResponse, status: number, body: unknown): number {
  const { delayMs, hang } = pacing.get(res) ?? {};
  if (hang) return status;
  const send = () => {
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (delayMs) setTimeout(send, delayMs);
  else send();
  return status;
}

/**
 * `lean` keeps only what a benchmark reads (arrival times and senders) instead of every request's
 * payload: 100,000 kept requests make garbage collection pause the stand-in for tens of
 * milliseconds, and a paused stand-in stamps a backlog of arrivals as if they came at once.
 */
export async function startTwilioStandin(
  opts: { accountSid?: string; authToken?: string; port?: number; lean?: boolean } = {},
): Promise<TwilioStandin> {
  const accountSid = opts.accountSid ?? `AC${hex(16)}`;
  const authToken = opts.authToken ?? hex(16);
  const requests: RecordedRequest[] = [];
  const messages: Stored[] = [];
  const calls: Stored[] = [];
  const recentCreates: number[] = [];
  const base = `/2010-04-01/Accounts/${accountSid}`;

  const standin: TwilioStandin = {
    url: '',
    accountSid,
    authToken,
    requests,
    messages,
    calls,
    script: [],
    arrivals: { at: [], from: [] },
    accepted: (resource) =>
      requests.filter(
        (r) => r.method === 'POST' && r.answered < 300 && (!resource || r.resource === resource),
      ),
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        // hung answers would keep their sockets (and close) waiting forever
        server.closeAllConnections();
      }),
  };

  function createMessage(
    form: Record<string, string | string[]>,
    at: number,
    res: http.ServerResponse,
  ): number {
    const to = String(form.To ?? '');
    const from = form.From !== undefined ? String(form.From) : null;
    const service = form.MessagingServiceSid !== undefined ? String(form.MessagingServiceSid) : null;
    if (!E164.test(to))
      return twilioError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!from && !service)
      return twilioError(
        res,
        400,
        21603,
        "A 'From' or 'MessagingServiceSid' parameter is required to send a message",
      );
    if (form.Body === undefined) return twilioError(res, 400, 21602, 'Message body is required.');
    const sid = `SM${hex(16)}`;
    const body = String(form.Body);
    const message: Stored = {
      sid,
      account_sid: accountSid,
      api_version: '2010-04-01',
      to,
      from,
      messaging_service_sid: service,
      body,
      status: service && !from ? 'accepted' : 'queued',
      direction: 'outbound-api',
      num_segments: String(analyzeSms(body).segments),
      num_media: '0',
      price: null,
      price_unit: 'USD',
      error_code: null,
      error_message: null,
      date_created: rfc2822(at),
      date_updated: rfc2822(at),
      // the stand-in "sends" at once, so reconciliation can find the message by DateSent
      date_sent: rfc2822(at),
      uri: `${base}/Messages/${sid}.json`,
      subresource_uris: { media: `${base}/Messages/${sid}/Media.json` },
      arrivedAt: at,
    };
    const { arrivedAt: _at, ...shown } = message;
    // lean: the body and a few fields stay for lookups, the rest of the resource is not kept
    messages.push(
      opts.lean
        ? {
            sid,
            to,
            from,
            body,
            direction: 'outbound-api',
            status: message.status,
            date_sent: message.date_sent,
            arrivedAt: at,
          }
        : message,
    );
    return json(res, 201, shown);
  }

  function createCall(form: Record<string, string | string[]>, at: number, res: http.ServerResponse): number {
    const to = String(form.To ?? '');
    const from = form.From !== undefined ? String(form.From) : '';
    if (!E164.test(to))
      return twilioError(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`);
    if (!E164.test(from))
      return twilioError(res, 400, 21212, `The 'From' number ${from} is not a valid phone number.`);
    if (form.Twiml === undefined && form.Url === undefined)
      return twilioError(res, 400, 21205, 'Url or Twiml parameter is required.');
    const sid = `CA${hex(16)}`;
    const call: Stored = {
      sid,
      account_sid: accountSid,
      api_version: '2010-04-01',
      to,
      to_formatted: to,
      from,
      from_formatted: from,
      status: 'queued',
      direction: 'outbound-api',
      start_time: rfc2822(at),
      end_time: null,
      duration: null,
      price: null,
      price_unit: 'USD',
      answered_by: null,
      date_created: rfc2822(at),
      date_updated: rfc2822(at),
      uri: `${base}/Calls/${sid}.json`,
      subresource_uris: {},
      arrivedAt: at,
    };
    calls.push(call);
    const { arrivedAt: _at, ...shown } = call;
    return json(res, 201, shown);
  }

  function list(resource: Resource, query: Record<string, string>, res: http.ServerResponse): number {
    const rows = resource === 'Messages' ? messages : calls;
    const dateKey = resource === 'Messages' ? 'DateSent' : 'StartTime';
    const after = query[`${dateKey}>`] ? Date.parse(query[`${dateKey}>`]!) : -Infinity;
    const before = query[`${dateKey}<`] ? Date.parse(query[`${dateKey}<`]!) : Infinity;
    const matches = rows
      .filter((r) => (!query.To || r.to === query.To) && (!query.From || r.from === query.From))
      // Twilio's filters are second-granular: compare at whole seconds like it does
      .filter(
        (r) =>
          Math.floor(r.arrivedAt / 1000) * 1000 >= after && Math.floor(r.arrivedAt / 1000) * 1000 <= before,
      )
      .reverse();
    const pageSize = Number(query.PageSize ?? 50);
    const page = Number(query.Page ?? 0);
    const slice = matches
      .slice(page * pageSize, (page + 1) * pageSize)
      .map(({ arrivedAt: _at, ...shown }) => shown);
    const uri = `${base}/${resource}.json`;
    const more = (page + 1) * pageSize < matches.length;
    const next = new URLSearchParams({ ...query, Page: String(page + 1), PageSize: String(pageSize) });
    return json(res, 200, {
      [resource.toLowerCase()]: slice,
      page,
      page_size: pageSize,
      start: page * pageSize,
      end: page * pageSize + slice.length - 1,
      uri,
      first_page_uri: uri,
      previous_page_uri: null,
      next_page_uri: more ? `${uri}?${next.toString()}` : null,
    });
  }

  function scripted(
    resource: Resource,
    form: Record<string, string | string[]>,
  ): ScriptedFailure | undefined {
    const rule = standin.script.find(
      (r) => r.times > 0 && (!r.resource || r.resource === resource) && (!r.to || r.to === form.To),
    );
    if (rule) rule.times--;
    return rule;
  }

  function overRate(at: number): boolean {
    if (standin.rateLimitPerSecond === undefined) return false;
    while (recentCreates.length && recentCreates[0]! <= at - 1000) recentCreates.shift();
    if (recentCreates.length >= standin.rateLimitPerSecond) return true;
    recentCreates.push(at);
    return false;
  }

  const server = http.createServer((req, res) => {
    const arrivedAt = performance.timeOrigin + performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://standin');
      const match = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/.exec(url.pathname);
      const header = req.headers.authorization;
      const decoded = header?.startsWith('Basic ')
        ? Buffer.from(header.slice(6), 'base64').toString()
        : undefined;
      const auth = decoded
        ? { user: decoded.split(':')[0]!, password: decoded.split(':').slice(1).join(':') }
        : undefined;
      const form = formToObject(new URLSearchParams(Buffer.concat(chunks).toString()));
      const query = Object.fromEntries(url.searchParams);
      const record: RecordedRequest = {
        method: req.method ?? 'GET',
        resource: (match?.[2] ?? 'Messages') as Resource,
        path: url.pathname,
        form,
        query,
        auth,
        arrivedAt,
        answered: 0,
      };
      if (!opts.lean) requests.push(record);
      if (!match) {
        record.answered = twilioError(res, 404, 20404, 'The requested resource was not found');
      } else if (match[1] !== accountSid || auth?.user !== accountSid || auth.password !== authToken) {
        record.answered = twilioError(res, 401, 20003, 'Authentication Error - invalid username');
      } else if (req.method === 'GET') {
        record.answered = list(record.resource, query, res);
      } else if (req.method === 'POST') {
        // how this create is answered; the message is accepted (or refused) on arrival either way
        pacing.set(res, { delayMs: standin.answerDelayMs, hang: standin.hangCreates });
        const failure = scripted(record.resource, form);
        if (failure) {
          record.answered = twilioError(
            res,
            failure.status,
            failure.code ?? failure.status * 100,
            failure.message ?? 'Scripted failure',
          );
        } else if (overRate(arrivedAt)) {
          record.answered = twilioError(res, 429, 20429, 'Too Many Requests');
        } else {
          record.answered =
            record.resource === 'Messages'
              ? createMessage(form, arrivedAt, res)
              : createCall(form, arrivedAt, res);
          if (record.answered < 300) {
            standin.arrivals.at.push(arrivedAt);
            standin.arrivals.from.push(String(form.From ?? ''));
          }
        }
      } else {
        record.answered = twilioError(res, 405, 20004, 'Method not allowed');
      }
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  standin.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return standin;
}
