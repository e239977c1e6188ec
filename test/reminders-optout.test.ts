import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { INGRESS_PATHS, WORKFLOW_IDS } from '../lib/names';
import type { ProviderAccount } from '../lib/providers/accounts';
import { reminderRun } from '../workflows';
import { createTestAccount, createTestCompany } from './support/dispatch';
import { eventually, openTestApp } from './support/harness';
import { sentMessage, startTestIngress, type TestIngress } from './support/ingress';
import {
  addPerson,
  messageRow,
  outboxCount,
  planTouch,
  startReminderWorkers,
  type ReminderWorkers,
} from './support/reminders';

let app: App;
let ingress: TestIngress;
let workers: ReminderWorkers;
let slow: ProviderAccount;
const SENDER = '+16175550142';

beforeAll(async () => {
  app = await openTestApp();
  // two texts a second: a run of ten people takes seconds, long enough for a reply to arrive mid-run
  slow = await createTestAccount(app.sql, {
    channel: 'sms',
    provider: 'outbox',
    maxPerSecond: 2,
    batchSize: 2,
    senders: [{ address: SENDER, kind: 'long_code', maxPerSecond: 2 }],
  });
  workers = await startReminderWorkers(app, ['northeast'], [slow]);
  ingress = await startTestIngress(app);
});
afterAll(async () => {
  await ingress?.close();
  await workers?.stop();
  await app?.close();
});

describe('an opt-out during a run', () => {
  it("STOP arriving mid-run stops that person's later messages", async () => {
    const company = await createTestCompany(app.sql, {
      credits: 1000,
      settings: { accounts: { sms: slow.key } },
    });
    // the run's clock is the real one, moved to midday in New York so quiet hours never get in the way
    const noon = new Date();
    noon.setUTCHours(17, 0, 0, 0);
    if (noon.getTime() < Date.now()) noon.setUTCDate(noon.getUTCDate() + 1);
    const inADay = new Date(noon.getTime() + 86_400_000);
    const people = [];
    const due: number[] = [];
    for (let i = 0; i < 10; i++) {
      const p = await addPerson(app.sql, company.id, {
        state: 'NY',
        timezone: 'America/New_York',
        region: 'northeast',
        appointmentAt: inADay,
      });
      people.push(p);
      due.push(
        await planTouch(app.sql, company.id, p, {
          channel: 'sms',
          contactAt: new Date(Date.now() - 60_000),
          step: 'sms-1d',
          region: 'northeast',
        }),
      );
    }
    const last = people[people.length - 1]!;
    // the last person got last week's reminder from the same number, so their STOP finds them
    await sentMessage(app.sql, company.id, last, {
      channel: 'sms',
      from: SENDER,
      step: 'sms-earlier',
      sentAt: new Date(Date.now() - 7 * 86_400_000),
    });
    const laterCall = await planTouch(app.sql, company.id, last, {
      channel: 'voice',
      contactAt: new Date(noon.getTime() + 7_200_000),
      step: 'voice-2h',
      region: 'northeast',
    });

    const client = await app.client();
    const handle = await client.workflow.start(reminderRun, {
      taskQueue: workers.taskQueue,
      workflowId: WORKFLOW_IDS.reminderRun(company.alias, randomUUID()),
      args: [{ companyAlias: company.alias, now: noon.toISOString() }],
    });

    // once the first texts are out, the last person replies STOP
    await eventually(async () => ((await outboxCount(app.sql, due)) >= 1 ? true : undefined), 60_000);
    const reply = await ingress.post(INGRESS_PATHS.twilioSmsInbound, {
      MessageSid: `SM${randomUUID().replace(/-/g, '')}`,
      From: last.phone,
      To: SENDER,
      Body: 'STOP',
    });
    expect(reply.status).toBe(200);
    const sentBeforeStop = await outboxCount(app.sql, due);
    expect(sentBeforeStop).toBeLessThan(10);

    const summary = await handle.result();
    expect(summary.failed).toEqual([]);
    expect(await outboxCount(app.sql, due.slice(0, -1))).toBe(9);
    expect(await outboxCount(app.sql, due.slice(-1))).toBe(0);
    expect(await messageRow(app.sql, due[due.length - 1]!)).toMatchObject({
      state: 'skipped',
      status_description: expect.stringMatching(/opted out/),
    });
    expect(await messageRow(app.sql, laterCall)).toMatchObject({
      state: 'cancelled',
      status_description: expect.stringMatching(/opted out/),
    });
  });

  it('the database refuses to claim a message for someone who opted out of its channel', async () => {
    const company = await createTestCompany(app.sql, { credits: 10 });
    const p = await addPerson(app.sql, company.id, {
      state: 'NY',
      timezone: 'America/New_York',
      region: 'northeast',
      appointmentAt: new Date(Date.now() + 86_400_000),
    });
    const sms = await planTouch(app.sql, company.id, p, {
      channel: 'sms',
      contactAt: new Date(),
      step: 'a',
      region: 'northeast',
    });
    const email = await planTouch(app.sql, company.id, p, {
      channel: 'email',
      contactAt: new Date(),
      step: 'b',
      region: 'northeast',
    });
    // a flag set by any path (a load, an operator) with the message still scheduled, as a batch loaded earlier sees it
    await app.sql`update contacts set do_not_sms = true where id = ${p.contactId}`;
    const claimed =
      await app.sql`update messages set state = 'sending' where id in ${app.sql([sms, email])} and state = 'scheduled' returning id`;
    expect(claimed.map((r) => r.id)).toEqual([email]);
    expect((await messageRow(app.sql, sms)).state).toBe('scheduled');
  });
});
