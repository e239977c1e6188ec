import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import type { Channel } from '../lib/providers/types';
import {
  createContacts,
  createTestCompany,
  dispatchThroughOutbox,
  insertMessages,
  messageStates,
  type TestCompany,
} from './support/dispatch';
import { openTestApp } from './support/harness';
import { startTestIngress } from './support/ingress';
import { INGRESS_PATHS } from '../lib/names';

let app: App;
beforeAll(async () => {
  app = await openTestApp();
});
afterAll(() => app.close());

const dispatch = (company: TestCompany, channel: Channel) => dispatchThroughOutbox(app, company, channel);

const balance = async (companyId: number) => {
  const [row] = await app.sql<{ balance: string; reserved: string }[]>`
    select balance, reserved from company_credit_balances where company_id = ${companyId}`;
  return { balance: Number(row!.balance), reserved: Number(row!.reserved) };
};

describe('credits', () => {
  it('debits each sent message once at its channel rate: SMS per segment, a call per started minute, email per message', async () => {
    const company = await createTestCompany(app.sql, { credits: 100 });
    // a text in UCS-2 (the emoji) that needs two segments
    await app.sql`
      insert into message_templates (scope, company_id, channel, name, body)
      values ('company', ${company.id}, 'sms', 'appointment_reminder',
              ${'Hi {data.first_name} 🙂 ' + 'your appointment is coming up soon, please reply C to confirm or N to cancel. '.repeat(1)})`;
    const contacts = await createContacts(app.sql, company.id, 3);
    const sms = await insertMessages(app.sql, company.id, contacts, 'sms');
    const voice = await insertMessages(app.sql, company.id, contacts.slice(0, 1), 'voice');
    const email = await insertMessages(app.sql, company.id, contacts.slice(0, 1), 'email');
    expect((await dispatch(company, 'sms')).sent).toBe(3);
    expect((await dispatch(company, 'voice')).sent).toBe(1);
    expect((await dispatch(company, 'email')).sent).toBe(1);

    const debits = await app.sql<{ message_id: number; credits: string }[]>`
      select message_id, credits from credit_ledger where kind = 'debit' and company_id = ${company.id} order by message_id`;
    const by = new Map(debits.map((d) => [d.message_id, Number(d.credits)]));
    expect(sms.map((id) => by.get(id))).toEqual([-2, -2, -2]);
    expect(by.get(voice[0]!)).toBe(-2);
    expect(by.get(email[0]!)).toBe(-1);
    const [segments] = await app.sql<
      { segments: number; encoding: string }[]
    >`select segments, encoding from messages where id = ${sms[0]!}`;
    expect(segments).toEqual({ segments: 2, encoding: 'UCS-2' });
    expect(await balance(company.id)).toEqual({ balance: 100 - 6 - 2 - 1, reserved: 0 });

    // the database refuses a second debit of the same message
    await expect(
      app.sql`insert into credit_ledger (company_id, kind, credits, message_id) values (${company.id}, 'debit', -2, ${sms[0]!})`,
    ).rejects.toThrow(/credit_ledger_message_debit/);
  });

  it('charges the minutes of a call past the first when its completion callback reports the duration, once however often it comes', async () => {
    const company = await createTestCompany(app.sql, { credits: 100 });
    const [long, short] = await insertMessages(
      app.sql,
      company.id,
      await createContacts(app.sql, company.id, 2),
      'voice',
    );
    expect((await dispatch(company, 'voice')).sent).toBe(2);
    const sids = new Map(
      (
        await app.sql<{ id: number; sid: string }[]>`
        select id, provider_message_id as sid from messages where id in ${app.sql([long!, short!])}`
      ).map((r) => [r.id, r.sid]),
    );
    expect(await balance(company.id)).toEqual({ balance: 100 - 2 - 2, reserved: 0 });

    const ingress = await startTestIngress(app);
    try {
      const status = (id: number, CallStatus: string, extra: Record<string, string> = {}) =>
        ingress.post(INGRESS_PATHS.twilioVoiceStatus, { CallSid: sids.get(id)!, CallStatus, ...extra });
      expect((await status(long!, 'in-progress', { SequenceNumber: '1' })).status).toBe(200);
      // 2 min 5 s: three started minutes, the first already paid; the callback delivered twice
      for (let i = 0; i < 2; i++) {
        expect((await status(long!, 'completed', { SequenceNumber: '2', CallDuration: '125' })).status).toBe(
          200,
        );
      }
      // the same completion as another event (a later sequence number): the ledger still charges once
      expect((await status(long!, 'completed', { SequenceNumber: '3', CallDuration: '125' })).status).toBe(
        200,
      );
      // exactly one minute: nothing more to pay
      expect((await status(short!, 'completed', { SequenceNumber: '1', CallDuration: '60' })).status).toBe(
        200,
      );
    } finally {
      await ingress.close();
    }
    const rows = await app.sql<{ message_id: number; kind: string; credits: string; note: string }[]>`
      select message_id, kind, credits, note from credit_ledger
      where company_id = ${company.id} and kind in ('debit', 'call_minutes') order by message_id, kind`;
    expect(rows.map((r) => ({ ...r, credits: Number(r.credits) }))).toEqual([
      {
        message_id: long,
        kind: 'call_minutes',
        credits: -4,
        note: 'call, 2 more started minute(s) of 125 s',
      },
      { message_id: long, kind: 'debit', credits: -2, note: 'call, first minute' },
      { message_id: short, kind: 'debit', credits: -2, note: 'call, first minute' },
    ]);
    expect(await balance(company.id)).toEqual({ balance: 100 - 2 - 2 - 4, reserved: 0 });
  });

  it('holds every message, with its reason and an event, when the company has no credits, until released', async () => {
    const company = await createTestCompany(app.sql);
    const ids = await insertMessages(
      app.sql,
      company.id,
      await createContacts(app.sql, company.id, 4),
      'sms',
    );
    const totals = await dispatch(company, 'sms');
    expect(totals).toMatchObject({ sent: 0, held: 4 });
    const rows = await app.sql<{ state: string; status_description: string }[]>`
      select state, status_description from messages where id in ${app.sql(ids)}`;
    expect(rows.every((r) => r.state === 'held')).toBe(true);
    expect(rows[0]!.status_description).toBe('held: not enough credits (0.00 left, 1.00 needed)');
    const events =
      await app.sql`select event_type, status from message_updates where message_id in ${app.sql(ids)}`;
    expect(events).toHaveLength(4);
    expect(events[0]).toEqual({ event_type: 'held', status: 'held' });
    expect(await app.sql`select 1 from outbox_messages where company_id = ${company.id}`).toHaveLength(0);

    // credits bought, an operator releases them, and the next dispatch sends them
    await app.sql`insert into credit_ledger (company_id, kind, credits, note) values (${company.id}, 'purchase', 10, 'top-up')`;
    const cli = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/herald.ts', 'held', '--company', company.alias, '--release', '--json'],
      {
        encoding: 'utf8',
        timeout: 90_000,
      },
    );
    expect(JSON.parse(cli.stdout)).toEqual({
      held: [{ channel: 'sms', reason: 'held: not enough credits (0.00 left, 1.00 needed)', messages: 4 }],
      released: 4,
    });
    expect(await dispatch(company, 'sms')).toMatchObject({ sent: 4, held: 0 });
    expect(await messageStates(app.sql, ids)).toEqual({ sent: 4 });
  });

  it('sends what the credits cover and holds the rest', async () => {
    const company = await createTestCompany(app.sql, { credits: 3 });
    const ids = await insertMessages(
      app.sql,
      company.id,
      await createContacts(app.sql, company.id, 5),
      'sms',
    );
    expect(await dispatch(company, 'sms')).toMatchObject({ sent: 3, held: 2 });
    expect(await messageStates(app.sql, ids)).toEqual({ sent: 3, held: 2 });
    expect(await balance(company.id)).toEqual({ balance: 0, reserved: 0 });
  });

  it('holds messages past the plan limit for the day, naming the limit', async () => {
    const company = await createTestCompany(app.sql, { credits: 100, plan: { max_sms_per_day: 2 } });
    const ids = await insertMessages(
      app.sql,
      company.id,
      await createContacts(app.sql, company.id, 4),
      'sms',
    );
    expect(await dispatch(company, 'sms')).toMatchObject({ sent: 2, held: 2 });
    const held = await app.sql<{ status_description: string }[]>`
      select status_description from messages where id in ${app.sql(ids)} and state = 'held'`;
    expect(held.map((h) => h.status_description)).toEqual(
      Array(2).fill('held: plan limit of 2 sms messages a day reached'),
    );
  });
});
