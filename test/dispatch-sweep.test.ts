import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { findStrandedBatches, sweepBatch } from '../lib/dispatch/sweep';
import { createProviderRegistry } from '../lib/providers/registry';
import type { TwilioStandin } from './standins/twilio';
import {
  createContacts,
  createTestAccount,
  createTestCompany,
  insertMessages,
  contactPhones,
  startDispatch,
  twilioInstances,
  twilioWorkerEnv,
} from './support/dispatch';
import { eventually } from './support/harness';
import { useDispatchEnv } from './support/dispatch-env';
import { killWorkerProcesses, startWorkerProcess } from './support/worker-process';

let app: App;
let twilio: TwilioStandin;

// worker processes reach this process's stand-in; they are killed when the file's tests are over
useDispatchEnv({ credits: 0 }, (env) => ({ app, twilio } = env));
afterAll(killWorkerProcesses);

const MESSAGES = 60;

describe('the sweep of stranded sends', () => {
  it("settles what a killed batch whose workflow is gone left in 'sending': found is sent, the rest rescheduled", async () => {
    const company = await createTestCompany(app.sql, { credits: 1000 });
    const account = await createTestAccount(app.sql, {
      channel: 'sms',
      provider: 'twilio',
      maxPerSecond: 20,
      batchSize: MESSAGES,
      senders: [{ address: '+16175550145', kind: 'short_code', maxPerSecond: 20 }],
    });
    const contacts = await createContacts(app.sql, company.id, MESSAGES);
    const ids = await insertMessages(app.sql, company.id, contacts, 'sms');
    const phones = await contactPhones(app.sql, contacts);
    const accepted = () => twilio.accepted('Messages').filter((r) => phones.has(String(r.form.To)));
    const queue = `test-${randomUUID()}`;
    const env = twilioWorkerEnv(twilio, account, {
      SEND_HEARTBEAT_TIMEOUT_MS: '4000',
      PROVIDER_TIMEOUT_MS: '5000',
    });

    // a slow vendor, so the worker dies with texts in flight whose answers it never reads
    twilio.answerDelayMs = 2000;
    const worker = await startWorkerProcess(queue, env);
    const handle = await startDispatch(app, queue, {
      companyId: company.id,
      companyAlias: company.alias,
      channel: 'sms',
      accountKey: account.key,
    });
    await eventually(async () => (accepted().length >= 10 ? true : undefined), 60_000);
    worker.kill('SIGKILL');
    await handle.terminate('an operator stopped the dispatch');
    twilio.answerDelayMs = undefined;
    const stranded = await app.sql<{ n: number }[]>`
      select count(*)::int as n from messages where id in ${app.sql(ids)} and state = 'sending'`;
    expect(stranded[0]!.n).toBeGreaterThan(0);

    // the sweep (its workflow runs each minute in production) settles them once their lease and its
    // grace have run out: here for this account alone, with the worker's kind of provider
    const providers = createProviderRegistry({
      sql: app.sql,
      config: {
        ...app.config,
        sending: { ...app.config.sending, providerTimeoutMs: 5000, heartbeatTimeoutMs: 4000 },
      },
      instances: twilioInstances(account, twilio),
    });
    const deps = { sql: app.sql, providers, log: app.log, heartbeat: () => {} };
    await eventually(async () => {
      const batches = await findStrandedBatches(app.sql, {
        limit: 100,
        canLookUp: async (key) => key === account.key,
      });
      for (const batch of batches) await sweepBatch(deps, batch);
      const [left] = await app.sql<{ n: number }[]>`
        select count(*)::int as n from messages where id in ${app.sql(ids)} and state in ('sending', 'unknown')`;
      return left!.n === 0 ? true : undefined;
    }, 60_000);

    // every text the stand-in got is sent and charged once; the others are back in line, their credits free
    const received = new Set(accepted().map((r) => String(r.form.To)));
    expect(accepted()).toHaveLength(received.size);
    const rows = await app.sql<{ to: string; state: string; debits: number }[]>`
      select c.phone_e164 as to, m.state,
             (select count(*)::int from credit_ledger l where l.message_id = m.id and l.kind = 'debit') as debits
      from messages m join contacts c on c.id = m.contact_id where m.id in ${app.sql(ids)}`;
    for (const row of rows) {
      expect(row).toEqual(
        received.has(row.to)
          ? { to: row.to, state: 'sent', debits: 1 }
          : { to: row.to, state: 'scheduled', debits: 0 },
      );
    }
    const [credit] = await app.sql<{ reserved: string }[]>`
      select reserved from credit_accounts where company_id = ${company.id}`;
    expect(credit!.reserved).toBe('0.00');
  }, 300_000);
});
