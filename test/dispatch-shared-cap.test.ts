import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { limiterKey } from '../lib/rates/rate-slots';
import type { ProviderAccount } from '../lib/providers/accounts';
import { startTwilioStandinProcess, type TwilioStandinProcess } from './standins/twilio-process';
import {
  createContacts,
  createTestAccount,
  createTestCompany,
  insertMessages,
  maxInAnySecond,
  messageStates,
  runDispatch,
  startDispatchWorkers,
  twilioWorkerEnv,
  type DispatchWorkers,
} from './support/dispatch';
import { eventually, openTestApp } from './support/harness';
import { killWorkerProcesses, startWorkerProcess } from './support/worker-process';

let app: App;
let twilio: TwilioStandinProcess;
// the dispatch workflow runs in this process; the sends run in the worker processes only
let workflows: DispatchWorkers;

beforeAll(async () => {
  app = await openTestApp();
  twilio = await startTwilioStandinProcess();
  workflows = await startDispatchWorkers(app, { accounts: [] });
}, 120_000);
afterAll(async () => {
  killWorkerProcesses();
  await workflows.stop();
  await twilio.close();
  await app.close();
});

const CAP = 40;

/** Two real worker processes hosting the account's send queue, sending through the Twilio stand-in. */
async function twoSendProcesses(account: ProviderAccount): Promise<ChildProcess[]> {
  const env = twilioWorkerEnv(twilio, account, {
    // a killed process's share may be taken this much (plus a second and a margin) after its lease
    PROVIDER_TIMEOUT_MS: '1000',
    // the schedule spaces at the cap itself: the shares alone must keep the processes' late sends apart
    SEND_RATE_HEADROOM_PERCENT: '0',
  });
  return Promise.all([
    startWorkerProcess(account.taskQueue, env),
    startWorkerProcess(account.taskQueue, env),
  ]);
}

async function setUp(count: number) {
  const company = await createTestCompany(app.sql, { credits: 100_000 });
  const account = await createTestAccount(app.sql, {
    channel: 'sms',
    provider: 'twilio',
    maxPerSecond: CAP,
    batchSize: 20,
    senders: [{ address: '+16175550111', kind: 'short_code', maxPerSecond: 1000 }],
  });
  const ids = await insertMessages(
    app.sql,
    company.id,
    await createContacts(app.sql, company.id, count),
    'sms',
  );
  return { company, account, ids };
}

const shareRows = (account: ProviderAccount) =>
  app.sql<{ holder: string; have: number }[]>`
    select holder, have from send_window_shares where key = ${limiterKey.account(account.key)} order by holder`;

/** Accepted creates at the stand-in since `before`: arrival stamps, and how often each recipient was sent to. */
async function accepted(before: number) {
  const creates = (await twilio.requests(before)).filter((r) => r.method === 'POST' && r.answered === 201);
  const perRecipient = new Map<string, number>();
  for (const r of creates) {
    const to = String(r.form.To);
    perRecipient.set(to, (perRecipient.get(to) ?? 0) + 1);
  }
  return { times: creates.map((r) => r.arrivedAt), perRecipient };
}

describe('one account sent by two worker processes', () => {
  it('never lets more than the cap arrive in any second, and sends every message once', async () => {
    const { company, account, ids } = await setUp(400);
    const processes = await twoSendProcesses(account);
    const before = (await twilio.requests()).length;
    const dispatch = runDispatch(app, workflows, {
      companyId: company.id,
      companyAlias: company.alias,
      channel: 'sms',
      accountKey: account.key,
    });
    // both processes come to hold a part of the cap, never more than the cap together
    const split = await eventually(async () => {
      const rows = await shareRows(account);
      return rows.length === 2 && rows.every((r) => r.have > 0) ? rows : undefined;
    }, 60_000);
    expect(split.reduce((sum, r) => sum + r.have, 0)).toBeLessThanOrEqual(CAP);
    const totals = await dispatch;
    expect(totals.sent).toBe(400);
    expect(await messageStates(app.sql, ids)).toEqual({ sent: 400 });
    const { times, perRecipient } = await accepted(before);
    expect(times).toHaveLength(400);
    expect([...perRecipient.values()].every((n) => n === 1)).toBe(true);
    expect(maxInAnySecond(times)).toBeLessThanOrEqual(CAP);
    const exits = await Promise.all(processes.map((p) => stopProcess(p)));
    expect(exits).toEqual([0, 0]);
    // a process stopped gracefully gives its shares back
    expect(await shareRows(account)).toEqual([]);
  }, 180_000);

  it('hands a killed process share to the other once its lease and grace have run out', async () => {
    const { company, account, ids } = await setUp(800);
    const [doomed, survivor] = await twoSendProcesses(account);
    const before = (await twilio.requests()).length;
    const dispatch = runDispatch(app, workflows, {
      companyId: company.id,
      companyAlias: company.alias,
      channel: 'sms',
      accountKey: account.key,
    });
    // wait until both processes hold a share, then kill one outright, mid-send
    const split = await eventually(async () => {
      const rows = await shareRows(account);
      return rows.length === 2 && rows.every((r) => r.have > 0) ? rows : undefined;
    }, 60_000);
    expect(split.reduce((sum, r) => sum + r.have, 0)).toBeLessThanOrEqual(CAP);
    doomed!.kill('SIGKILL');
    const killedAt = Date.now();
    // its share stays counted until it expires, then the survivor takes the whole cap
    const whole = await eventually(async () => {
      const rows = await shareRows(account);
      return rows.length === 1 && rows[0]!.have === CAP ? Date.now() : undefined;
    }, 60_000);
    // lease (3 s) + request timeout (1 s) + its second + a margin (1 s): not before
    expect(whole - killedAt).toBeGreaterThanOrEqual(5000);

    await dispatch;
    // what the killed process left in 'sending' was reconciled with the vendor, not sent again
    expect(await messageStates(app.sql, ids)).toEqual({ sent: 800 });
    const { times, perRecipient } = await accepted(before);
    expect(perRecipient.size).toBe(800);
    expect([...perRecipient.values()].every((n) => n === 1)).toBe(true);
    expect(maxInAnySecond(times)).toBeLessThanOrEqual(CAP);
    // alone with the whole cap, the survivor sent more than its half in some second
    const after = times.filter((t) => t > whole + 500);
    expect(maxInAnySecond(after)).toBeGreaterThan(CAP * 0.75);
    await stopProcess(survivor!);
  }, 300_000);
});

function stopProcess(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}
