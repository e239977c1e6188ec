// `npm start`'s provider side: delivery callbacks, a forged one, a duplicate, a STOP and a confirmation, posted to the ingress as Twilio would.
import { randomBytes } from 'node:crypto';
import type { App } from '../lib/app';
import { fetchSnsText } from '../lib/ingress/sns';
import { startIngress, type RunningIngress } from '../lib/ingress/server';
import { postAsTwilio, simulatedTwilioSid } from '../lib/ingress/simulate-twilio';
import { INGRESS_PATHS } from '../lib/names';

export interface DemoIngress extends RunningIngress {
  publicBaseUrl: string;
  authToken: string;
}

/** The ingress in this process, on INGRESS_PORT (or any free port when that one is taken). */
export async function startDemoIngress(app: App): Promise<DemoIngress> {
  const { config } = app;
  // without a Twilio account the demo signs with a token of its own, known only to this process
  const authToken = config.twilio.authToken ?? randomBytes(16).toString('hex');
  const deps = {
    sql: app.sql,
    // the demo posts a forged callback on purpose and prints what happened itself: only errors are logged
    log: app.log.child({ component: 'ingress' }, { level: 'error' }),
    publicBaseUrl: config.ingress.publicBaseUrl,
    twilio: { authToken, accountSid: config.twilio.accountSid },
    sns: {
      topicArns: config.ingress.snsTopicArns,
      secret: config.ingress.snsSecret,
      fetchText: fetchSnsText,
    },
    unsubscribeSecret: config.ingress.unsubscribeSecret,
  };
  const ingress = await startIngress(deps, { port: config.ingress.port }).catch(
    (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') throw err;
      return startIngress(deps, { port: 0 });
    },
  );
  return { ...ingress, publicBaseUrl: config.ingress.publicBaseUrl ?? ingress.url, authToken };
}

const masked = (phone: string) => `${phone.slice(0, -4).replace(/\d/g, '•')}${phone.slice(-4)}`;

interface SentText {
  id: number;
  uuid: string;
  provider_message_id: string;
  to_address: string;
  from_address: string | null;
  contact_id: number;
  appointment_id: number | null;
}

export async function simulateProviderTraffic(
  app: App,
  ingress: DemoIngress,
  companyAlias: string,
): Promise<string[]> {
  const post = (path: string, params: Record<string, string>, authToken = ingress.authToken) =>
    postAsTwilio({ publicBaseUrl: ingress.publicBaseUrl, targetUrl: ingress.url, authToken, path, params });
  const texts = await app.sql<SentText[]>`
    select m.id, m.uuid, m.provider_message_id, m.to_address, m.from_address, m.contact_id, m.appointment_id
    from messages m join companies c on c.id = m.company_id
    where c.alias = ${companyAlias} and m.channel = 'sms' and m.state = 'sent' and m.provider in ('twilio', 'outbox')
    order by m.sent_at, m.id limit 20`;
  const lines = [
    `Provider callbacks and replies, signed as Twilio signs them, to the ingress at ${ingress.url}:`,
  ];
  if (!texts.length) return [...lines, '  no texts were sent, so there is nothing to call back about'];

  const status = (t: SentText, s: string) => ({
    MessageSid: t.provider_message_id,
    SmsSid: t.provider_message_id,
    MessageStatus: s,
    SmsStatus: s,
    To: t.to_address,
  });
  let delivered = 0;
  for (const t of texts)
    if ((await post(INGRESS_PATHS.twilioSmsStatus, status(t, 'delivered'))).status === 200) delivered++;
  lines.push(`  ${delivered} delivery callbacks accepted: those texts are now 'delivered'`);

  const first = texts[0]!;
  const again = await post(INGRESS_PATHS.twilioSmsStatus, status(first, 'delivered'));
  const [updates] = await app.sql<{ n: number }[]>`
    select count(*)::int as n from message_updates where message_id = ${first.id} and event_type = 'sms.delivered'`;
  lines.push(
    `  the same callback again: HTTP ${again.status}, applied once (${updates!.n} delivery event stored)`,
  );

  const forged = await post(
    INGRESS_PATHS.twilioSmsStatus,
    status(texts[1] ?? first, 'failed'),
    'not-the-account-token',
  );
  const [stillSent] = await app.sql<
    { state: string }[]
  >`select state from messages where id = ${(texts[1] ?? first).id}`;
  lines.push(
    `  a forged callback (wrong signature): HTTP ${forged.status}, nothing written (the text stays '${stillSent!.state}')`,
  );

  const reply = async (t: SentText, body: string) =>
    post(INGRESS_PATHS.twilioSmsInbound, {
      MessageSid: simulatedTwilioSid('SM', `${t.uuid}:${body}`),
      From: t.to_address,
      To: t.from_address ?? '',
      Body: body,
    });
  await reply(first, 'STOP');
  const [stopped] = await app.sql<{ do_not_sms: boolean; skipped: number; cancelled: number }[]>`
    select c.do_not_sms,
           (select count(*)::int from messages where contact_id = c.id and state = 'skipped') as skipped,
           (select count(*)::int from messages where contact_id = c.id and state = 'cancelled') as cancelled
    from contacts c where c.id = ${first.contact_id}`;
  lines.push(
    `  "STOP" from ${masked(first.to_address)}: do_not_sms ${stopped!.do_not_sms ? 'set' : 'NOT set'}, ` +
      `${stopped!.skipped} pending text(s) skipped and ${stopped!.cancelled} other touch(es) cancelled at once`,
  );

  const second = texts.find((t) => t.contact_id !== first.contact_id && t.appointment_id !== null);
  if (second) {
    await reply(second, 'C');
    const [confirmed] = await app.sql<{ status: string; enrollment: string | null; cancelled: number }[]>`
      select a.status, e.status as enrollment,
             (select count(*)::int from messages where appointment_id = a.id and state = 'cancelled') as cancelled
      from appointments a left join reminder_enrollments e on e.appointment_id = a.id where a.id = ${second.appointment_id}`;
    lines.push(
      `  "C" from ${masked(second.to_address)}: appointment ${confirmed!.status}, reminder sequence ${confirmed!.enrollment ?? '-'}, ` +
        `${confirmed!.cancelled} later touch(es) cancelled`,
    );
  }
  return lines;
}

/** What people answered, per packet (messages.contact_status, from the message_reply_summary view). */
export async function describeReplies(app: App, companyAlias: string): Promise<string[]> {
  const rows = await app.sql<{ packet: string | null; contact_status: string; messages: number }[]>`
    select p.original_name as packet, s.contact_status, sum(s.messages)::int as messages
    from message_reply_summary s join companies c on c.id = s.company_id left join data_packets p on p.id = s.packet_id
    where c.alias = ${companyAlias} group by 1, 2 order by 1, 2`;
  if (!rows.length) return [];
  return [
    'Answers by packet:',
    ...rows.map(
      (r) => `  ${(r.packet ?? '(no packet)').padEnd(40)} ${r.contact_status.padEnd(12)} ${r.messages}`,
    ),
  ];
}
