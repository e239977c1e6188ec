import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { WORKFLOW_IDS } from '../lib/names';
import { dispatchMessages } from '../workflows';
import type { TwilioStandin } from './standins/twilio';
import {
  createContacts,
  createTestAccount,
  createTestCompany,
  insertMessages,
  messageStates,
} from './support/dispatch';
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

/** Freezes a process (as a long GC pause, a stalled VM or a cut network would) and thaws it. */
async function freeze(child: ChildProcess, ms: number): Promise<void> {
  child.kill('SIGSTOP');
  await new Promise((r) => setTimeout(r, ms));
  child.kill('SIGCONT');
}

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
    const phones = new Set(
      (
        await app.sql<{ phone_e164: string }[]>`
          select phone_e164 from contacts where id in ${app.sql(contacts)}`
      ).map((r) => r.phone_e164),
    );
    // every answer takes longer than the heartbeat timeout: an attempt that beat only after sending
    // would be silent past it while it waits for the last answers
    twilio.answerDelayMs = ANSWER_DELAY_MS;
    const queue = `test-${randomUUID()}`;
    await startWorkerProcess(queue, {
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_API_BASE_URL: twilio.url,
      WORKER_SEND_ACCOUNTS: account.key,
      SEND_HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS),
      PROVIDER_TIMEOUT_MS: '8000',
    });
    const handle = await (
      await app.client()
    ).workflow.start(dispatchMessages, {
      taskQueue: queue,
      workflowId: WORKFLOW_IDS.dispatch(company.alias, 'sms', randomUUID()),
      args: [
        {
          companyId: company.id,
          companyAlias: company.alias,
          channel: 'sms',
          accountKey: account.key,
          dueBefore: new Date().toISOString(),
        },
      ],
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
    const phones = new Set(
      (
        await app.sql<{ phone_e164: string }[]>`
          select phone_e164 from contacts where id in ${app.sql(contacts)}`
      ).map((r) => r.phone_e164),
    );
    twilio.answerDelayMs = ANSWER_DELAY_MS;

    const queue = `test-${randomUUID()}`;
    const env = {
      TWILIO_ACCOUNT_SID: twilio.accountSid,
      TWILIO_AUTH_TOKEN: twilio.authToken,
      TWILIO_API_BASE_URL: twilio.url,
      WORKER_SEND_ACCOUNTS: account.key,
      SEND_HEARTBEAT_TIMEOUT_MS: String(HEARTBEAT_TIMEOUT_MS),
      PROVIDER_TIMEOUT_MS: '8000',
      SEND_RATE_HEADROOM_PERCENT: '10',
    };
    // two worker processes, each hosting the dispatch workflow and the account's send queue
    const workers = [await startWorkerProcess(queue, env), await startWorkerProcess(queue, env)];
    const client = await app.client();
    const handle = await client.workflow.start(dispatchMessages, {
      taskQueue: queue,
      workflowId: WORKFLOW_IDS.dispatch(company.alias, 'sms', randomUUID()),
      args: [
        {
          companyId: company.id,
          companyAlias: company.alias,
          channel: 'sms',
          accountKey: account.key,
          dueBefore: new Date().toISOString(),
        },
      ],
    });
    try {
      // each worker in turn is frozen past the heartbeat timeout while its sends are in flight: Temporal
      // starts another attempt of its batches on the other worker, and then the frozen one wakes up
      for (const [i, share] of [0.2, 0.5].entries()) {
        await eventually(
          async () => (accepted(phones).length >= MESSAGES * share ? true : undefined),
          120_000,
        );
        await freeze(workers[i]!, HEARTBEAT_TIMEOUT_MS * 2);
      }
      const totals = await handle.result();
      expect(totals, JSON.stringify(totals)).toMatchObject({ sent: MESSAGES, waiting: 0, unknown: 0 });
    } finally {
      twilio.answerDelayMs = undefined;
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
