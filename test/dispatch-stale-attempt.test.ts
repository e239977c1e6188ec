import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import type { TwilioStandin } from './standins/twilio';
import {
  createContacts,
  createTestAccount,
  createTestCompany,
  insertMessages,
  messageStates,
  contactPhones,
  startDispatch,
  twilioWorkerEnv,
} from './support/dispatch';
import { startCuttableLink, type CuttableLink } from './support/cuttable-link';
import { eventually } from './support/harness';
import { useDispatchEnv } from './support/dispatch-env';
import { killWorkerProcesses, startWorkerProcess } from './support/worker-process';

let app: App;
let twilio: TwilioStandin;

// worker processes reach this process's stand-in; they are killed when the file's tests are over
useDispatchEnv({ credits: 0 }, (env) => ({ app, twilio } = env));
afterAll(killWorkerProcesses);

/** Heartbeat timeout of the send activity; the stand-in answers slower than that. */
const HEARTBEAT_TIMEOUT_MS = 4000;
const ANSWER_DELAY_MS = 5000;
const MESSAGES = 1000;

const accepted = (phones: Set<string>) =>
  twilio.accepted('Messages').filter((r) => phones.has(String(r.form.To)));

describe('a send attempt waiting for a vendor slower than its heartbeat timeout', () => {
  it('heartbeats while it waits, so Temporal never takes it for dead: one attempt, each text once', async () => {
    const texts = 6;
    const company = await createTestCompany(app.sql, { credits: 100 });
    const account = await createTestAccount(app.sql, {
      channel: 'sms',
      provider: 'twilio',
      maxPerSecond: 2,
      batchSize: texts,
      senders: [{ address: '+16175550146', kind: 'long_code', maxPerSecond: 2 }],
    });
    const contacts = await createContacts(app.sql, company.id, texts);
    const ids = await insertMessages(app.sql, company.id, contacts, 'sms');
    const phones = await contactPhones(app.sql, contacts);
    // every answer takes longer than the heartbeat timeout: an attempt that beat only after sending
    // would be silent past it while it waits for the last answers
    twilio.answerDelayMs = ANSWER_DELAY_MS;
    const queue = `test-${randomUUID()}`;
    await startWorkerProcess(
      queue,
      twilioWorkerEnv(twilio, account, {
        SEND_HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS),
        PROVIDER_TIMEOUT_MS: '8000',
      }),
    );
    const handle = await startDispatch(app, queue, {
      companyId: company.id,
      companyAlias: company.alias,
      channel: 'sms',
      accountKey: account.key,
    });
    try {
      const totals = await handle.result();
      expect(totals, JSON.stringify(totals)).toMatchObject({ sent: texts, waiting: 0, unknown: 0 });
    } finally {
      twilio.answerDelayMs = undefined;
    }
    expect(accepted(phones)).toHaveLength(texts);
    expect(await messageStates(app.sql, ids)).toEqual({ sent: texts });
    // no attempt was declared dead: every activity ran once
    const history = await handle.fetchHistory();
    const timedOut = (history.events ?? []).filter((e) => e.activityTaskTimedOutEventAttributes);
    const attempts = (history.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0);
    expect(timedOut).toEqual([]);
    expect(Math.max(...attempts)).toBe(1);
  }, 120_000);
});

describe('a send attempt Temporal gave up on while it was still alive', () => {
  it('sends nothing more once another attempt took its batch: 1,000 texts, each received once, all sent', async () => {
    const company = await createTestCompany(app.sql, { credits: MESSAGES * 10 });
    const account = await createTestAccount(app.sql, {
      channel: 'sms',
      provider: 'twilio',
      maxPerSecond: 100,
      batchSize: 100,
      senders: [{ address: '+16175550144', kind: 'short_code', maxPerSecond: 100 }],
    });
    const contacts = await createContacts(app.sql, company.id, MESSAGES);
    const ids = await insertMessages(app.sql, company.id, contacts, 'sms');
    const phones = await contactPhones(app.sql, contacts);
    twilio.answerDelayMs = ANSWER_DELAY_MS;

    const queue = `test-${randomUUID()}`;
    const env = twilioWorkerEnv(twilio, account, {
      SEND_HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS),
      PROVIDER_TIMEOUT_MS: '8000',
      SEND_RATE_HEADROOM_PERCENT: '10',
    });
    // two worker processes, each hosting the dispatch workflow and the account's send queue, each
    // reaching Temporal through a link the test can cut (Postgres and the vendor stay reachable)
    const links: CuttableLink[] = [];
    const workers: ChildProcess[] = [];
    for (let i = 0; i < 2; i++) {
      links.push(await startCuttableLink(process.env.TEMPORAL_ADDRESS!));
      workers.push(await startWorkerProcess(queue, { ...env, TEMPORAL_ADDRESS: links[i]!.address }));
    }
    const handle = await startDispatch(app, queue, {
      companyId: company.id,
      companyAlias: company.alias,
      channel: 'sms',
      accountKey: account.key,
    });
    /** Where each batch's send attempt runs now: activity id, worker (index), attempt. */
    const sendAttempts = async () =>
      ((await handle.describe()).raw.pendingActivities ?? []).flatMap((a) => {
        const worker = workers.findIndex((w) => a.lastWorkerIdentity?.startsWith(`${w.pid}@`));
        return a.activityType?.name === 'sendMessageBatch' && worker >= 0
          ? [{ id: a.activityId!, worker, attempt: a.attempt ?? 1 }]
          : [];
      });
    try {
      // twice, the worker sending a batch loses its way to Temporal while its sends go on: Temporal
      // hears no heartbeat, starts another attempt on the other worker, and both are alive at once
      for (const share of [0.2, 0.5]) {
        await eventually(
          async () => (accepted(phones).length >= MESSAGES * share ? true : undefined),
          120_000,
        );
        const before = await eventually(async () => (await sendAttempts())[0], 120_000);
        links[before.worker]!.cut();
        // gone: the other worker's attempt finished it (the cut one cannot report)
        await eventually(async () => {
          const now = (await sendAttempts()).find((a) => a.id === before.id);
          return !now || (now.worker !== before.worker && now.attempt > before.attempt) ? true : undefined;
        }, 120_000);
        // a few seconds of both alive, then its heartbeats reach Temporal again (and are refused)
        await new Promise((r) => setTimeout(r, HEARTBEAT_TIMEOUT_MS));
        links[before.worker]!.mend();
      }
      const totals = await handle.result();
      expect(totals, JSON.stringify(totals)).toMatchObject({ sent: MESSAGES, waiting: 0, unknown: 0 });
    } finally {
      twilio.answerDelayMs = undefined;
      await Promise.all(links.map((l) => l.close()));
    }

    // the stand-in received each text once, and every message ends sent, charged once
    const perPhone = new Map<string, number>();
    for (const r of accepted(phones))
      perPhone.set(String(r.form.To), (perPhone.get(String(r.form.To)) ?? 0) + 1);
    expect([...perPhone.values()].filter((n) => n > 1)).toEqual([]);
    expect(perPhone.size).toBe(MESSAGES);
    expect(await messageStates(app.sql, ids)).toEqual({ sent: MESSAGES });
    const [charged] = await app.sql<{ debits: number; reserved: string }[]>`
      select (select count(*)::int from credit_ledger where kind = 'debit' and message_id in ${app.sql(ids)}) as debits,
             (select reserved from credit_accounts where company_id = ${company.id}) as reserved`;
    expect(charged).toEqual({ debits: MESSAGES, reserved: '0.00' });

    // and two attempts of a batch really were alive at once: a send activity ran more than one attempt
    const history = await handle.fetchHistory();
    const attempts = (history.events ?? []).map((e) => e.activityTaskStartedEventAttributes?.attempt ?? 0);
    expect(Math.max(...attempts)).toBeGreaterThan(1);
  }, 600_000);
});
