// The HTTP ingress: provider callbacks (Twilio, SES via SNS), replies and unsubscribes, each verified before anything is written.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sql } from '../db';
import type { Logger } from '../log';
import { INGRESS_PATHS, OWN_ID_PARAM } from '../names';
import { createSesEmail } from '../providers/ses-email';
import { createTwilioSms } from '../providers/twilio-sms';
import { createTwilioVoice } from '../providers/twilio-voice';
import type { SmsProvider, VoiceProvider } from '../providers/types';
import { EMPTY_TWIML, HttpError, parseForm, readBody, send, sendTwiml } from './http';
import { applyInboundSms } from './inbound-sms';
import { watchPendingEvents } from './pending-events';
import { applyProviderEvent } from './provider-events';
import { verifySnsRequest, type SnsCheck } from './sns';
import { confirmPage, donePage, notFoundPage, unsubscribeByMessage } from './unsubscribe';
import { verifyUnsubscribeToken } from '../unsubscribe-token';
import { verifyTwilioSignature } from './twilio-signature';
import { applyGather } from './voice-gather';

export interface IngressDeps {
  sql: Sql;
  log: Logger;
  /** the URL providers call us at (PUBLIC_BASE_URL); Twilio signatures are checked against it */
  publicBaseUrl: string;
  twilio: { authToken?: string; accountSid?: string };
  sns: SnsCheck;
  unsubscribeSecret?: string;
}

/** The vendors' parsers need a client object, never a request: a placeholder account id serves when none is configured. */
const PARSER_ACCOUNT_SID = `AC${'0'.repeat(32)}`;

export function createIngressHandler(deps: IngressDeps) {
  const { sql, log } = deps;
  const twilioAuth = { authToken: deps.twilio.authToken, publicBaseUrl: deps.publicBaseUrl };
  const parserSettings = {
    account: 'callbacks',
    accountSid: deps.twilio.accountSid ?? PARSER_ACCOUNT_SID,
    authToken: deps.twilio.authToken ?? 'none',
  };
  const sms = createTwilioSms(parserSettings);
  const voice = createTwilioVoice(parserSettings);
  const ses = createSesEmail({ account: 'callbacks', region: 'us-east-1' });
  if (!deps.twilio.authToken)
    log.warn('TWILIO_AUTH_TOKEN is not set: every Twilio callback will be refused (403)');
  if (!deps.sns.topicArns.length)
    log.info('SES_SNS_TOPIC_ARNS is not set: every SES event will be refused (403)');

  /** Twilio routes: a request whose signature does not match is refused before anything is read into the database. */
  async function twilioForm(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<Record<string, string> | undefined> {
    const params = parseForm(await readBody(req));
    const signature = req.headers['x-twilio-signature'];
    if (
      !verifyTwilioSignature(
        twilioAuth,
        req.url ?? '/',
        typeof signature === 'string' ? signature : undefined,
        params,
      )
    ) {
      log.warn(
        { path: req.url?.split('?')[0], signed: !!signature },
        'refused a Twilio request: forged or unsigned',
      );
      send(res, 403, 'forbidden: the X-Twilio-Signature does not match');
      return undefined;
    }
    return params;
  }

  /** `ownId`: our message uuid, carried on the callback URL we gave (?m=) */
  type TwilioRoute = (
    params: Record<string, string>,
    res: ServerResponse,
    ownId: string | undefined,
  ) => Promise<void>;

  /** A delivery status of a text or call: parsed by its channel's provider, applied like any vendor event. */
  function twilioStatus(provider: SmsProvider | VoiceProvider, channel: 'sms' | 'voice'): TwilioRoute {
    return async (params, res, ownId) => {
      const event = provider.parseCallback!(params);
      const outcome = await applyProviderEvent(sql, {
        providers: ['twilio', 'outbox'],
        recordAs: 'twilio',
        event,
        ownId,
      });
      log.info({ event: event.eventType, outcome: outcome.kind }, `${channel} status callback`);
      send(res, 200, '');
    };
  }

  const twilioRoutes: Record<string, TwilioRoute> = {
    [INGRESS_PATHS.twilioSmsStatus]: twilioStatus(sms, 'sms'),
    [INGRESS_PATHS.twilioVoiceStatus]: twilioStatus(voice, 'voice'),
    [INGRESS_PATHS.twilioVoiceGather]: async (params, res, ownId) => {
      const outcome = await applyGather(sql, log, voice.parseCallback!(params), ownId);
      log.info({ outcome: outcome.kind }, 'call answer (digits)');
      sendTwiml(res, outcome.twiml);
    },
    [INGRESS_PATHS.twilioSmsInbound]: async (params, res) => {
      const outcome = await applyInboundSms(sql, {
        sid: params.MessageSid ?? params.SmsSid ?? '',
        from: params.From ?? '',
        to: params.To ?? '',
        body: params.Body ?? '',
      });
      log.info(
        {
          outcome: outcome.kind,
          intent: outcome.kind === 'duplicate' ? undefined : outcome.intent.kind,
          // a reply several companies could own acts on none: operators see these (herald replies)
          candidates: outcome.kind === 'ambiguous' ? outcome.candidates.length : undefined,
        },
        'inbound text',
      );
      // Twilio answers STOP / START itself (Advanced Opt-Out); herald sends no reply of its own
      sendTwiml(res, EMPTY_TWIML);
    },
  };

  async function sesEvents(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): Promise<void> {
    const verdict = await verifySnsRequest(deps.sns, await readBody(req), query);
    if (!verdict.ok) {
      log.warn({ reason: verdict.reason }, 'refused an SNS request');
      return send(res, 403, `forbidden: ${verdict.reason}`);
    }
    const m = verdict.message;
    if (m.Type === 'SubscriptionConfirmation' && m.SubscribeURL) {
      await deps.sns.fetchText(m.SubscribeURL);
      log.info({ topic: m.TopicArn }, 'confirmed the SNS subscription');
    } else if (m.Type === 'Notification') {
      const event = ses.parseCallback!({ Message: m.Message });
      const outcome = await applyProviderEvent(sql, { providers: ['ses', 'outbox'], recordAs: 'ses', event });
      log.info({ event: event.eventType, outcome: outcome.kind }, 'ses event');
    }
    send(res, 200, '');
  }

  async function unsubscribe(req: IncomingMessage, res: ServerResponse, token: string): Promise<void> {
    const uuid = verifyUnsubscribeToken(decodedOrNull(token) ?? '', deps.unsubscribeSecret);
    if (!uuid) return send(res, 404, notFoundPage(), 'text/html; charset=utf-8');
    if (req.method === 'GET') return send(res, 200, confirmPage(req.url ?? ''), 'text/html; charset=utf-8');
    const body = await readBody(req);
    const how = /List-Unsubscribe=One-Click/.test(body)
      ? 'one-click unsubscribe (List-Unsubscribe-Post)'
      : 'unsubscribe link';
    const outcome = await unsubscribeByMessage(sql, uuid, how);
    if (outcome.kind === 'unknown') return send(res, 404, notFoundPage(), 'text/html; charset=utf-8');
    log.info({ how }, 'email unsubscribe');
    send(res, 200, donePage(outcome.companyName), 'text/html; charset=utf-8');
  }

  return async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://ingress');
    try {
      if (req.method === 'GET' && url.pathname === '/healthz') return send(res, 200, 'ok');
      const twilioRoute = twilioRoutes[url.pathname];
      if (twilioRoute && req.method === 'POST') {
        const params = await twilioForm(req, res);
        if (params) await twilioRoute(params, res, url.searchParams.get(OWN_ID_PARAM) ?? undefined);
        return;
      }
      if (url.pathname === INGRESS_PATHS.sesEvents && req.method === 'POST')
        return await sesEvents(req, res, url.searchParams);
      const prefix = `${INGRESS_PATHS.emailUnsubscribe}/`;
      if (url.pathname.startsWith(prefix) && (req.method === 'GET' || req.method === 'POST')) {
        return await unsubscribe(req, res, url.pathname.slice(prefix.length));
      }
      send(res, 404, 'not found');
    } catch (err) {
      if (err instanceof HttpError) return send(res, err.status, err.message);
      log.error({ err, path: url.pathname }, 'ingress request failed');
      if (!res.headersSent) send(res, 500, 'internal error');
    }
  };
}

/** A path segment decoded, or null when its % escapes are malformed (a link cut short, or made up). */
function decodedOrNull(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

/** What one client may hold of the ingress: a callback is a few kilobytes, sent at once. */
export interface IngressLimits {
  /** open connections at once; more are dropped as they arrive */
  maxConnections: number;
  /** the most a request may take to arrive, headers and body; its headers must come within 10 s of it */
  requestTimeoutMs: number;
}

export const DEFAULT_INGRESS_LIMITS: IngressLimits = { maxConnections: 1000, requestTimeoutMs: 30_000 };

export interface RunningIngress {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** How often waiting status callbacks are looked at when no notice came (see pending-events). */
const PENDING_SWEEP_MS = 30_000;

/**
 * Listens on `port` (0 = any free one); `publicBaseUrl` defaults to the address it listens on.
 * Also applies status callbacks that arrived before their message's provider id was recorded.
 */
export async function startIngress(
  deps: Omit<IngressDeps, 'publicBaseUrl'> & { publicBaseUrl?: string },
  opts: { port: number; host?: string; pendingSweepMs?: number; limits?: IngressLimits },
): Promise<RunningIngress> {
  const limits = opts.limits ?? DEFAULT_INGRESS_LIMITS;
  // Node's defaults let a slow client hold a socket for 5 minutes, checked every 30 s, with no cap on
  // how many; a provider's callback arrives in well under a second
  const server = http.createServer({
    requestTimeout: limits.requestTimeoutMs,
    headersTimeout: Math.min(10_000, limits.requestTimeoutMs),
    keepAliveTimeout: 5_000,
    connectionsCheckingInterval: Math.min(1_000, limits.requestTimeoutMs),
  });
  server.maxConnections = limits.maxConnections;
  // a socket that sends nothing at all is closed too
  server.setTimeout(limits.requestTimeoutMs, (socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = !opts.host || opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host;
  const url = `http://${host}:${port}`;
  // the handler needs the port for its default public URL, so requests are taken only once it is known
  const handler = createIngressHandler({ ...deps, publicBaseUrl: deps.publicBaseUrl ?? url });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => void handler(req, res));
  const pending = await watchPendingEvents(deps.sql, deps.log, {
    sweepMs: opts.pendingSweepMs ?? PENDING_SWEEP_MS,
  });
  return {
    url,
    port,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pending.close();
    },
  };
}
