import { randomUUID } from 'node:crypto';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { MockActivityEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { archiveMessageBatch } from '../lib/archive/messages';
import { startPacketRun } from '../lib/packet-ops/control';
import { findPacket } from '../lib/packet-ops/read';
import { loadAccount } from '../lib/providers/accounts';
import { DEFAULT_SECRET_ENV_PREFIXES } from '../lib/sources/secrets';
import { drainWebhookOutbox } from '../lib/webhooks/drain';
import { ensureWebhookDrainer } from '../lib/webhooks/drainer';
import { notifyCompany, type NotifyCompanyInput, type QueuedDelivery } from '../lib/webhooks/enqueue';
import { makeCompany } from './support/archive-fixtures';
import { INGRESS_PATHS, TASK_QUEUES, WORKFLOW_IDS } from '../lib/names';
import { herald } from './support/cli';
import {
  createContacts,
  createTestCompany as createDispatchCompany,
  insertMessages,
  runDispatch,
  startDispatchWorkers,
} from './support/dispatch';
import { eventually, openTestApp, startTestWorker, testActivities, type TestWorker } from './support/harness';
import { createTestCompany as createIngestCompany, ehrRows, ingestFile } from './support/ingest';
import { sentMessage, smsStatus, startTestIngress, type TestIngress } from './support/ingress';
import { addNewYorker, type Person } from './support/reminders';
import { startReceiver, type Received, type Receiver } from './support/webhook-receiver';

/** Where the test's drains read endpoint secrets: the environment, under the default prefix. */
const TEST_SECRETS = { env: process.env, prefixes: DEFAULT_SECRET_ENV_PREFIXES };

const SECRET_ENV = 'HERALD_SECRET_TEST_WEBHOOK';
const secret = `whsec_${randomUUID()}`;
let app: App;
let worker: TestWorker;
let receiver: Receiver;
let drainerId: string;

beforeAll(async () => {
  // the workers sign with the key the endpoint names by variable; the test's worker runs in this process
  process.env[SECRET_ENV] = secret;
  app = await openTestApp();
  worker = await startTestWorker(app);
  receiver = await startReceiver(secret);
  // the outbox's drainer, as the pipeline worker runs it, on this test's queue (short runs: the worker stops soon)
  drainerId = await ensureWebhookDrainer(await app.client(), {
    taskQueue: worker.taskQueue,
    workflowId: `webhooks/drain/test-${randomUUID()}`,
    input: { pollMs: 200, runForMs: 5000, batchSize: 100 },
  });
});
afterAll(async () => {
  if (drainerId)
    await (
      await app.client()
    ).workflow
      .getHandle(drainerId)
      .terminate('test over')
      .catch(() => undefined);
  await worker?.stop();
  await receiver?.close();
  await app?.close();
});

async function addEndpoint(
  companyId: number,
  path: string,
  opts: { events?: string[]; maxAttempts?: number; secretEnv?: string } = {},
) {
  const [row] = await app.sql<{ id: number }[]>`
    insert into webhook_endpoints (company_id, url, events, secret_env, max_attempts, retry_initial_ms, timeout_ms)
    values (${companyId}, ${receiver.url(path)}, ${opts.events ?? []}, ${opts.secretEnv ?? SECRET_ENV},
            ${opts.maxAttempts ?? 5}, 200, 5000)
    returning id`;
  return row!.id;
}

async function notifyAndWait(input: NotifyCompanyInput) {
  const client = await app.client();
  const queued = await notifyCompany({ sql: app.sql, client, taskQueue: worker.taskQueue }, input);
  const outcomes = await Promise.all(
    queued.map((q) =>
      client.workflow
        .getHandle(q.workflowId)
        .result()
        .then(
          () => 'delivered',
          (e: unknown) => e as WorkflowFailedError,
        ),
    ),
  );
  return { queued, outcomes };
}

async function attemptsOf(deliveryId: string) {
  return app.sql<{ attempt: number; status_code: number | null; outcome: string; duration_ms: number }[]>`
    select a.attempt, a.status_code, a.outcome, a.duration_ms from webhook_attempts a
    join webhook_deliveries d on d.id = a.delivery_id where d.uuid = ${deliveryId} order by a.attempt`;
}

async function deliveryRow(deliveryId: string) {
  const [row] = await app.sql<
    {
      status: string;
      attempts: number;
      last_status_code: number | null;
      last_error: string | null;
      delivered_at: Date | null;
    }[]
  >`
    select status, attempts, last_status_code, last_error, delivered_at from webhook_deliveries where uuid = ${deliveryId}`;
  return row!;
}

describe('outbound webhooks', () => {
  it('delivers a signed packet.completed the receiver verifies, records it, and sends the same event once', async () => {
    const company = await makeCompany(app.sql);
    await addEndpoint(company.id, `/ok/${company.alias}`);
    const payload = {
      packetId: randomUUID(),
      fileName: 'appointments.csv',
      rowsLoaded: 120,
      rowsRejected: 3,
    };
    const { queued, outcomes } = await notifyAndWait({
      companyId: company.id,
      event: 'packet.completed',
      payload,
      eventKey: `packet:${payload.packetId}:completed`,
    });
    expect(outcomes).toEqual(['delivered']);
    const got = receiver.received.filter((r) => r.path === `/ok/${company.alias}`);
    expect(got).toHaveLength(1);
    expect(got[0]!.verified.ok).toBe(true);
    expect(got[0]!.headers['x-herald-event']).toBe('packet.completed');
    expect(got[0]!.headers['x-herald-delivery']).toBe(queued[0]!.deliveryId);
    expect(JSON.parse(got[0]!.body)).toMatchObject({
      id: queued[0]!.deliveryId,
      event: 'packet.completed',
      company: company.alias,
      data: payload,
    });
    expect(await deliveryRow(queued[0]!.deliveryId)).toMatchObject({
      status: 'delivered',
      attempts: 1,
      last_status_code: 200,
    });
    expect(await attemptsOf(queued[0]!.deliveryId)).toEqual([
      expect.objectContaining({ attempt: 1, status_code: 200, outcome: 'delivered' }),
    ]);

    const again = await notifyAndWait({
      companyId: company.id,
      event: 'packet.completed',
      payload,
      eventKey: `packet:${payload.packetId}:completed`,
    });
    expect(again.queued).toEqual([
      expect.objectContaining({ deliveryId: queued[0]!.deliveryId, created: false }),
    ]);
    expect(receiver.received.filter((r) => r.path === `/ok/${company.alias}`)).toHaveLength(1);
  });

  it('retries after a 500 with backoff until the receiver takes it, the same body each time; every attempt recorded', async () => {
    const company = await makeCompany(app.sql);
    const path = `/flaky/${company.alias}`;
    receiver.answer(path, [500, 503, 200]);
    await addEndpoint(company.id, path);
    const { queued, outcomes } = await notifyAndWait({
      companyId: company.id,
      event: 'message.delivered',
      payload: { messageId: randomUUID(), channel: 'sms' },
    });
    expect(outcomes).toEqual(['delivered']);
    const got = receiver.received.filter((r) => r.path === path);
    expect(got).toHaveLength(3);
    expect(got.every((r) => r.verified.ok)).toBe(true);
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
    const attempts = await attemptsOf(queued[0]!.deliveryId);
    expect(attempts.map((a) => [a.attempt, a.status_code, a.outcome])).toEqual([
      [1, 500, 'retry'],
      [2, 503, 'retry'],
      [3, 200, 'delivered'],
    ]);
    expect(await deliveryRow(queued[0]!.deliveryId)).toMatchObject({ status: 'delivered', attempts: 3 });
  });

  it('stops at once on 410 Gone, marks the delivery failed and switches the endpoint off', async () => {
    const company = await makeCompany(app.sql);
    const path = `/gone/${company.alias}`;
    receiver.answer(path, [410]);
    const endpointId = await addEndpoint(company.id, path);
    const { queued, outcomes } = await notifyAndWait({
      companyId: company.id,
      event: 'packet.failed',
      payload: { packetId: randomUUID(), error: 'no rows' },
    });
    expect(outcomes[0]).toBeInstanceOf(WorkflowFailedError);
    expect(((outcomes[0] as WorkflowFailedError).cause as Error).message).toBe(
      'webhook not delivered: the endpoint answered 410 Gone',
    );
    expect(receiver.received.filter((r) => r.path === path)).toHaveLength(1);
    expect(await attemptsOf(queued[0]!.deliveryId)).toEqual([
      expect.objectContaining({ attempt: 1, status_code: 410, outcome: 'permanent' }),
    ]);
    expect(await deliveryRow(queued[0]!.deliveryId)).toMatchObject({
      status: 'failed',
      attempts: 1,
      last_status_code: 410,
    });
    const [endpoint] = await app.sql<
      { active: boolean; disabled_reason: string }[]
    >`select active, disabled_reason from webhook_endpoints where id = ${endpointId}`;
    expect(endpoint).toMatchObject({
      active: false,
      disabled_reason: expect.stringMatching(/^answered 410 Gone at /),
    });
    expect(
      (await notifyAndWait({ companyId: company.id, event: 'packet.failed', payload: { again: true } }))
        .queued,
    ).toEqual([]);
  });

  it("gives up after the endpoint's max attempts, and sends each endpoint only the events it asked for", async () => {
    const company = await makeCompany(app.sql);
    const down = `/down/${company.alias}`;
    receiver.answer(down, [503]);
    await addEndpoint(company.id, down, { maxAttempts: 3 });
    await addEndpoint(company.id, `/failures-only/${company.alias}`, { events: ['packet.failed'] });
    const { queued, outcomes } = await notifyAndWait({
      companyId: company.id,
      event: 'packet.completed',
      payload: { n: 1 },
    });
    expect(queued).toHaveLength(1);
    expect(outcomes[0]).toBeInstanceOf(WorkflowFailedError);
    expect((await attemptsOf(queued[0]!.deliveryId)).map((a) => a.status_code)).toEqual([503, 503, 503]);
    expect(await deliveryRow(queued[0]!.deliveryId)).toMatchObject({
      status: 'failed',
      attempts: 3,
      last_error: 'the endpoint answered 503 Service Unavailable',
    });
    expect(receiver.received.filter((r) => r.path === `/failures-only/${company.alias}`)).toHaveLength(0);
  });

  it('fails a delivery whose secret variable is not set on the worker, naming the variable, without sending', async () => {
    const company = await makeCompany(app.sql);
    const path = `/nosecret/${company.alias}`;
    await addEndpoint(company.id, path, { secretEnv: 'HERALD_SECRET_TEST_UNSET_WEBHOOK_SECRET' });
    const { queued, outcomes } = await notifyAndWait({
      companyId: company.id,
      event: 'webhook.test',
      payload: {},
    });
    expect(outcomes[0]).toBeInstanceOf(WorkflowFailedError);
    expect((await deliveryRow(queued[0]!.deliveryId)).last_error).toMatch(
      /HERALD_SECRET_TEST_UNSET_WEBHOOK_SECRET .*is not set/,
    );
    expect(receiver.received.filter((r) => r.path === path)).toHaveLength(0);
  });

  it("refuses to sign with a variable outside the secret prefixes (herald's own credentials), without sending", async () => {
    process.env.TWILIO_AUTH_TOKEN ??= 'herald-own-twilio-token';
    const company = await makeCompany(app.sql);
    const path = `/own-credential/${company.alias}`;
    await addEndpoint(company.id, path, { secretEnv: 'TWILIO_AUTH_TOKEN' });
    const { queued, outcomes } = await notifyAndWait({
      companyId: company.id,
      event: 'webhook.test',
      payload: {},
    });
    expect(outcomes[0]).toBeInstanceOf(WorkflowFailedError);
    expect((await deliveryRow(queued[0]!.deliveryId)).last_error).toMatch(
      /TWILIO_AUTH_TOKEN may not be read as a secret: its name must start with HERALD_SECRET_ \(SECRET_ENV_PREFIXES\)/,
    );
    expect(receiver.received.filter((r) => r.path === path)).toHaveLength(0);
  });

  it('cuts an attempt to an endpoint that hangs within two seconds of its delivery being cancelled', async () => {
    const company = await makeCompany(app.sql);
    // an endpoint that takes the request and never answers
    const hanging = createServer(() => {});
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/hang`;
      await app.sql`
        insert into webhook_endpoints (company_id, url, events, secret_env, max_attempts, retry_initial_ms, timeout_ms)
        values (${company.id}, ${url}, ${[]}, ${SECRET_ENV}, 1, 200, 60000)`;
      const arrived = new Promise<void>((resolve) => hanging.once('request', () => resolve()));
      const client = await app.client();
      const [queued] = await notifyCompany(
        { sql: app.sql, client, taskQueue: worker.taskQueue },
        { companyId: company.id, event: 'webhook.test', payload: {} },
      );
      await arrived;
      // well after the attempt's first heartbeat: the cancellation must come with a later one
      await new Promise((r) => setTimeout(r, 2500));
      const cancelledAt = Date.now();
      await client.workflow.getHandle(queued!.workflowId).cancel();
      const [attempt] = await eventually(async () => {
        const rows = await attemptsOf(queued!.deliveryId);
        return rows.length ? rows : undefined;
      }, 10_000);
      expect(Date.now() - cancelledAt).toBeLessThan(2500);
      expect(attempt!.outcome).toBe('retry');
      expect((await deliveryRow(queued!.deliveryId)).last_error).toBe(
        'cancelled before the endpoint answered',
      );
    } finally {
      hanging.closeAllConnections();
      await new Promise<void>((resolve) => hanging.close(() => resolve()));
    }
  });

  it("is callable as the notifyCompany activity; deliveries run on the calling worker's task queue", async () => {
    const company = await makeCompany(app.sql);
    await addEndpoint(company.id, `/activity/${company.alias}`);
    const client = await app.client();
    const activities = testActivities(app);
    const env = new MockActivityEnvironment({ taskQueue: worker.taskQueue }, { client });
    const input: NotifyCompanyInput = {
      companyId: company.id,
      event: 'message.failed',
      payload: { messageId: 'm1' },
    };
    const queued = (await env.run(activities.notifyCompany, input)) as QueuedDelivery[];
    expect(queued).toHaveLength(1);
    await client.workflow.getHandle(queued[0]!.workflowId).result();
    expect(
      receiver.received.filter((r) => r.path === `/activity/${company.alias}`).map((r) => r.verified.ok),
    ).toEqual([true]);
  });
});

/** What the receiver got on `path`, once `count` requests arrived (waits for the drainer and the deliveries). */
async function receivedOn(path: string, count: number): Promise<Received[]> {
  return eventually(async () => {
    const got = receiver.received.filter((r) => r.path === path);
    return got.length >= count ? got : undefined;
  }, 90_000);
}

/** The events in the bodies received on `path`, sorted, after their signatures are checked. */
function eventsOf(got: Received[]): { event: string; data: Record<string, unknown> }[] {
  for (const r of got) expect(r.verified).toEqual({ ok: true, timestamp: expect.any(Number) });
  return got
    .map((r) => JSON.parse(r.body) as { event: string; data: Record<string, unknown> })
    .sort((a, b) =>
      `${a.event}${JSON.stringify(a.data)}`.localeCompare(`${b.event}${JSON.stringify(b.data)}`),
    );
}

async function deliveriesOf(companyId: number) {
  return app.sql<{ event: string; status: string; attempts: number; workflow_id: string | null }[]>`
    select event, status, attempts, workflow_id from webhook_deliveries where company_id = ${companyId} order by id`;
}

/** Waits until every delivery of the company has finished, delivered or not. */
async function settled(companyId: number, count: number) {
  return eventually(async () => {
    const rows = await deliveriesOf(companyId);
    return rows.length === count && rows.every((r) => r.status === 'delivered' || r.status === 'failed')
      ? rows
      : undefined;
  }, 90_000);
}

describe('events the database records with the change they report', () => {
  it('sends packet.completed after an ingest, with counts and no personal data, and packet.failed after a failed one', async () => {
    const company = await createIngestCompany(app, { prefix: 'wh' });
    const path = `/packets/${company.alias}`;
    await addEndpoint(company.id, path, { events: ['packet.completed', 'packet.failed'] });

    const done = await ingestFile(app, worker.taskQueue, company, 'appointments.csv', ehrRows(4, 'W'));
    expect(done.summary.stage).toBe('done');
    const [completed] = eventsOf(await receivedOn(path, 1));
    expect(completed).toEqual({
      id: expect.any(String),
      event: 'packet.completed',
      company: company.alias,
      created_at: expect.any(String),
      data: {
        packetId: done.packet.uuid,
        stage: 'done',
        fileName: 'appointments.csv',
        rowsRead: 4,
        rowsLoaded: 4,
        rowsRejected: 0,
        rowsDuplicate: 0,
        finishedAt: expect.any(String),
      },
    });
    expect(JSON.stringify(completed)).not.toMatch(/Zelda|Quixote|617555/);

    const failed = await ingestFile(app, worker.taskQueue, company, 'wrong.csv', 'a,b\r\n1,2\r\n');
    expect(failed.summary.stage).toBe('failed');
    const events = eventsOf(await receivedOn(path, 2));
    expect(events.map((e) => e.event)).toEqual(['packet.completed', 'packet.failed']);
    expect(events[1]!.data).toMatchObject({
      packetId: failed.packet.uuid,
      stage: 'failed',
      fileName: 'wrong.csv',
      error: expect.stringMatching(/^the file lacks required columns/),
    });
    expect((await settled(company.id, 2)).map((d) => [d.event, d.status, d.attempts])).toEqual([
      ['packet.completed', 'delivered', 1],
      ['packet.failed', 'delivered', 1],
    ]);
  });

  it("reports a replayed packet's completion again, as a new event with its own delivery", async () => {
    const company = await createIngestCompany(app, { prefix: 'whr' });
    const path = `/replayed/${company.alias}`;
    await addEndpoint(company.id, path, { events: ['packet.completed'] });
    const done = await ingestFile(app, worker.taskQueue, company, 'appointments.csv', ehrRows(2, 'R'));
    expect(done.summary.stage).toBe('done');
    await receivedOn(path, 1);

    const client = await app.client();
    const { workflowId } = await startPacketRun(
      { sql: app.sql, client, taskQueue: worker.taskQueue },
      await findPacket(app.sql, done.packet.uuid),
      { from: 'loaded', actor: 'test', event: 'replay by the webhook test' },
    );
    await client.workflow.getHandle(workflowId).result();
    const got = await receivedOn(path, 2);
    const events = eventsOf(got);
    expect(events.map((e) => [e.event, e.data.packetId, e.data.rowsLoaded])).toEqual([
      ['packet.completed', done.packet.uuid, 2],
      ['packet.completed', done.packet.uuid, 2],
    ]);
    expect(new Set(got.map((r) => r.headers['x-herald-delivery'])).size).toBe(2);
  });

  it('sends message.sent after a dispatch to the local outbox, only to endpoints that want it, and nothing for companies without endpoints', async () => {
    const [outbox] = await app.sql<
      { key: string }[]
    >`select key from provider_accounts where channel = 'sms' and is_default`;
    const workers = await startDispatchWorkers(app, { accounts: [await loadAccount(app.sql, outbox!.key)] });
    try {
      const company = await createDispatchCompany(app.sql, { credits: 100 });
      const all = `/all/${company.alias}`;
      const deliveredOnly = `/delivered-only/${company.alias}`;
      await addEndpoint(company.id, all);
      await addEndpoint(company.id, deliveredOnly, { events: ['message.delivered'] });
      const silent = await createDispatchCompany(app.sql, { credits: 100 });

      const ids = await insertMessages(
        app.sql,
        company.id,
        await createContacts(app.sql, company.id, 3),
        'sms',
      );
      await insertMessages(app.sql, silent.id, await createContacts(app.sql, silent.id, 2), 'sms');
      expect(
        (
          await runDispatch(app, workers, {
            companyId: company.id,
            companyAlias: company.alias,
            channel: 'sms',
          })
        ).sent,
      ).toBe(3);
      expect(
        (
          await runDispatch(app, workers, {
            companyId: silent.id,
            companyAlias: silent.alias,
            channel: 'sms',
          })
        ).sent,
      ).toBe(2);

      const uuids = await app.sql<
        { uuid: string }[]
      >`select uuid from messages where id in ${app.sql(ids)} order by uuid`;
      const events = eventsOf(await receivedOn(all, 3));
      expect(
        events.map((e) => [e.event, e.data.messageId, e.data.status, e.data.previousStatus, e.data.channel]),
      ).toEqual(uuids.map((u) => ['message.sent', u.uuid, 'sent', 'sending', 'sms']));
      expect(JSON.stringify(events)).not.toMatch(/\+1617|Ann|example\.com/);
      expect(await settled(company.id, 3)).toHaveLength(3);
      expect(receiver.received.filter((r) => r.path === deliveredOnly)).toHaveLength(0);
      expect(await deliveriesOf(silent.id)).toEqual([]);
    } finally {
      await workers.stop();
    }
  });

  describe('through the ingress', () => {
    let ingress: TestIngress;
    beforeAll(async () => {
      ingress = await startTestIngress(app);
    });
    afterAll(async () => {
      await ingress?.close();
    });

    const SENDER = '+16175550199';
    const newPerson = (companyId: number) => addNewYorker(app.sql, companyId);
    const postStatus = (sid: string, status: string, extra: Record<string, string> = {}) =>
      ingress.post(INGRESS_PATHS.twilioSmsStatus, smsStatus(sid, status, extra));
    /** the person texts `body` back to the number the reminder came from */
    const textBack = (person: Person, body: string) => {
      const sid = `SM${randomUUID().replace(/-/g, '')}`;
      return ingress.post(INGRESS_PATHS.twilioSmsInbound, {
        MessageSid: sid,
        SmsSid: sid,
        From: person.phone,
        To: SENDER,
        Body: body,
        NumMedia: '0',
      });
    };

    it('sends message.delivered and message.failed after status callbacks, and message.replied for an answer', async () => {
      const company = await createDispatchCompany(app.sql, { credits: 100 });
      const path = `/callbacks/${company.alias}`;
      await addEndpoint(company.id, path, {
        events: ['message.delivered', 'message.failed', 'message.replied'],
      });
      const okPerson = await newPerson(company.id);
      const ok = await sentMessage(app.sql, company.id, okPerson, { channel: 'sms', from: SENDER });
      const bad = await sentMessage(app.sql, company.id, await newPerson(company.id), { channel: 'sms' });
      expect((await postStatus(ok.sid, 'delivered')).status).toBe(200);
      // the same callback again is applied once, and so is its event
      expect((await postStatus(ok.sid, 'delivered')).status).toBe(200);
      expect((await postStatus(bad.sid, 'failed', { ErrorCode: '30006' })).status).toBe(200);
      // C: confirmed (the reply's text itself is not sent)
      expect((await textBack(okPerson, 'C')).status).toBe(200);

      const events = eventsOf(await receivedOn(path, 3));
      expect(events.map((e) => [e.event, e.data.messageId, e.data.status, e.data.response])).toEqual([
        ['message.delivered', ok.uuid, 'delivered', undefined],
        ['message.failed', bad.uuid, 'failed', undefined],
        ['message.replied', ok.uuid, 'delivered', 'confirmed'],
      ]);
      expect(await settled(company.id, 3)).toHaveLength(3);
      expect(receiver.received.filter((r) => r.path === path)).toHaveLength(3);
    });

    it('sends message.replied for an answer to a message the archive has already moved to history', async () => {
      const company = await createDispatchCompany(app.sql, { credits: 100 });
      const path = `/archived/${company.alias}`;
      await addEndpoint(company.id, path, { events: ['message.replied'] });
      const person = await newPerson(company.id);
      const m = await sentMessage(app.sql, company.id, person, { channel: 'sms', from: SENDER });
      await app.sql`update messages set state = 'delivered', delivered_at = now() where id = ${m.id}`;
      const moved = await archiveMessageBatch(
        app.sql,
        { companyId: company.id, messageIds: [m.id] },
        async () => {},
      );
      expect(moved.messages).toBe(1);

      // 2: cancelled
      expect((await textBack(person, '2')).status).toBe(200);
      const [event] = eventsOf(await receivedOn(path, 1));
      expect(event).toMatchObject({
        event: 'message.replied',
        data: { messageId: m.uuid, status: 'delivered', response: 'cancelled' },
      });
    });
  });

  it('delivers an event once with three attempts when the receiver fails twice, however often it is drained', async () => {
    const company = await makeCompany(app.sql);
    const path = `/twice/${company.alias}`;
    receiver.answer(path, [500, 502, 200]);
    await addEndpoint(company.id, path);
    const [packet] = await app.sql<{ id: number; uuid: string }[]>`
      insert into data_packets (company_id, dedupe_key, object_key, stage) values (${company.id}, ${randomUUID()}, 'raw/x.csv', 'planned')
      returning id, uuid`;
    await app.sql`update data_packets set stage = 'done', finished_at = now() where id = ${packet!.id}`;
    // the test's own drains race the running drainer: one workflow per delivery whoever starts it
    const client = await app.client();
    await Promise.all(
      [1, 2].map(() =>
        drainWebhookOutbox(
          { sql: app.sql, client, taskQueue: worker.taskQueue, secrets: TEST_SECRETS },
          { limit: 100 },
        ),
      ),
    );
    const [delivery] = await settled(company.id, 1);
    expect(delivery).toMatchObject({ event: 'packet.completed', status: 'delivered', attempts: 3 });
    const [row] = await app.sql<
      { uuid: string }[]
    >`select uuid from webhook_deliveries where company_id = ${company.id}`;
    const uuid = row!.uuid;
    expect((await attemptsOf(uuid)).map((a) => [a.attempt, a.status_code, a.outcome])).toEqual([
      [1, 500, 'retry'],
      [2, 502, 'retry'],
      [3, 200, 'delivered'],
    ]);
    // drained again after it finished (as if a drainer lost its note of the workflow): no second run, nothing sent
    const handle = client.workflow.getHandle(WORKFLOW_IDS.webhookDelivery(uuid));
    const before = await handle.describe();
    await app.sql`update webhook_deliveries set workflow_id = null, status = 'pending' where uuid = ${uuid}`;
    await drainWebhookOutbox(
      { sql: app.sql, client, taskQueue: worker.taskQueue, secrets: TEST_SECRETS },
      { limit: 100 },
    );
    const after = await handle.describe();
    expect([after.runId, after.status.name]).toEqual([before.runId, 'COMPLETED']);
    await app.sql`update webhook_deliveries set status = 'delivered' where uuid = ${uuid}`;
    const got = receiver.received.filter((r) => r.path === path);
    expect(got.map((r) => r.headers['x-herald-delivery'])).toEqual([uuid, uuid, uuid]);
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
  });
});

describe('the outbox drainer', () => {
  /** `n` events for one endpoint, recorded as a trigger records them (one statement, no workflow). */
  async function outboxEvents(companyId: number, endpointId: number, n: number): Promise<string[]> {
    const rows = await app.sql<{ uuid: string }[]>`
      insert into webhook_deliveries (endpoint_id, company_id, event, event_key, payload)
      select ${endpointId}, ${companyId}, 'message.sent', 'message:' || g, jsonb_build_object('n', g)
      from generate_series(1, ${n}) g
      returning uuid`;
    return rows.map((r) => r.uuid);
  }

  it('makes the first attempt itself: a delivered event has no workflow, and its attempt is recorded', async () => {
    const company = await makeCompany(app.sql);
    const path = `/inline/${company.alias}`;
    const endpointId = await addEndpoint(company.id, path);
    const [uuid] = await outboxEvents(company.id, endpointId, 1);
    const [delivery] = await settled(company.id, 1);
    expect(delivery).toMatchObject({ status: 'delivered', attempts: 1, workflow_id: null });
    expect(await attemptsOf(uuid!)).toEqual([
      expect.objectContaining({ attempt: 1, status_code: 200, outcome: 'delivered' }),
    ]);
    const [got] = receiver.received.filter((r) => r.path === path);
    expect(got!.verified.ok).toBe(true);
    expect(got!.headers['x-herald-delivery']).toBe(uuid);
  });

  it('attempts each delivery once however many drains run at once', async () => {
    const company = await makeCompany(app.sql);
    const path = `/crowd/${company.alias}`;
    const endpointId = await addEndpoint(company.id, path);
    const client = await app.client();
    const uuids = await outboxEvents(company.id, endpointId, 300);
    // four drains of the test's own race the running drainer (itself four passes at once)
    await Promise.all(
      [1, 2, 3, 4].map(() =>
        drainWebhookOutbox(
          { sql: app.sql, client, taskQueue: worker.taskQueue, secrets: TEST_SECRETS },
          { limit: 50 },
        ),
      ),
    );
    await settled(company.id, 300);
    const got = receiver.received.filter((r) => r.path === path).map((r) => r.headers['x-herald-delivery']);
    expect(got).toHaveLength(300);
    expect(new Set(got)).toEqual(new Set(uuids));
  });

  it('hands a delivery whose drainer died mid-attempt to a workflow once its claim lapses; the unheard attempt stays recorded', async () => {
    const company = await makeCompany(app.sql);
    const path = `/orphan/${company.alias}`;
    const endpointId = await addEndpoint(company.id, path);
    // as a drainer leaves it when it dies after claiming and before recording the answer
    const [row] = await app.sql<{ uuid: string }[]>`
      with d as (
        insert into webhook_deliveries (endpoint_id, company_id, event, event_key, payload, status, attempts,
                                        lease_until, first_attempt_at, last_attempt_at)
        values (${endpointId}, ${company.id}, 'message.sent', 'message:orphan', '{}', 'delivering', 1,
                now() - interval '1 second', now(), now())
        returning id, uuid, company_id),
      a as (
        insert into webhook_attempts (delivery_id, company_id, attempt, started_at, duration_ms, error, outcome)
        select id, company_id, 1, now(), 0, 'no answer recorded: the drainer stopped during the attempt', 'unknown' from d)
      select uuid from d`;
    const uuid = row!.uuid;
    const [delivery] = await settled(company.id, 1);
    expect(delivery).toMatchObject({
      status: 'delivered',
      attempts: 2,
      workflow_id: WORKFLOW_IDS.webhookDelivery(uuid),
    });
    expect((await attemptsOf(uuid)).map((a) => [a.attempt, a.status_code, a.outcome])).toEqual([
      [1, null, 'unknown'],
      [2, 200, 'delivered'],
    ]);
    expect(receiver.received.filter((r) => r.path === path)).toHaveLength(1);
  });
  it('claims a pass for as long as its POSTs may take, 64 at a time, each up to its timeout', async () => {
    const client = await app.client();
    // the running drainer would take some of the rows: this test's pass claims them all alone
    await client.workflow.getHandle(drainerId).terminate('a pass of the test claims alone');
    // its activity stops at its next heartbeat or at the end of its five-second run
    await eventually(
      async () => (worker.worker.getStatus().numInFlightActivities === 0 ? true : undefined),
      30_000,
    );
    const company = await makeCompany(app.sql);
    // requests are held until the test has looked at the leases
    const held: ServerResponse[] = [];
    let answering = false;
    const slow = createServer((req, res) => {
      req.resume();
      req.on('end', () => (answering ? res.writeHead(200).end('ok') : held.push(res)));
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow`;
      const [endpoint] = await app.sql<{ id: number }[]>`
        insert into webhook_endpoints (company_id, url, events, secret_env, max_attempts, retry_initial_ms, timeout_ms)
        values (${company.id}, ${url}, ${[]}, ${SECRET_ENV}, 1, 200, 5000) returning id`;
      await outboxEvents(company.id, endpoint!.id, 100);
      const pass = drainWebhookOutbox(
        { sql: app.sql, client, taskQueue: worker.taskQueue, secrets: TEST_SECRETS },
        { limit: 100 },
      );
      await eventually(async () => (held.length >= 64 ? true : undefined), 30_000);
      // 100 POSTs 64 at a time are two rounds of up to 5 s each, and 30 s to spare
      const leases = await app.sql<{ ms: number }[]>`
        select (extract(epoch from lease_until - first_attempt_at) * 1000)::int as ms
        from webhook_deliveries where company_id = ${company.id}`;
      expect(leases).toHaveLength(100);
      expect(new Set(leases.map((l) => l.ms))).toEqual(new Set([2 * 5000 + 30_000]));
      answering = true;
      for (const res of held) res.writeHead(200).end('ok');
      expect(await pass).toMatchObject({ claimed: 100, delivered: 100 });
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
      drainerId = await ensureWebhookDrainer(client, {
        taskQueue: worker.taskQueue,
        workflowId: drainerId,
        input: { pollMs: 200, runForMs: 5000, batchSize: 100 },
      });
    }
  });

  it("keeps a delivery delivered when an attempt that outlived its claim answers after its workflow's", async () => {
    const company = await makeCompany(app.sql);
    // the first request is held until the test answers it; any later one is taken at once
    const held: ServerResponse[] = [];
    const slow = createServer((req, res) => {
      req.resume();
      req.on('end', () => (held.length === 0 ? held.push(res) : res.writeHead(200).end('ok')));
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow`;
      const [endpoint] = await app.sql<{ id: number }[]>`
        insert into webhook_endpoints (company_id, url, events, secret_env, max_attempts, retry_initial_ms, timeout_ms)
        values (${company.id}, ${url}, ${[]}, ${SECRET_ENV}, 5, 200, 30000) returning id`;
      const [uuid] = await outboxEvents(company.id, endpoint!.id, 1);
      await eventually(async () => (held.length ? true : undefined), 30_000);
      // the claim lapses while its attempt is still out: the delivery goes to its workflow, whose attempt 2 is taken
      await app.sql`update webhook_deliveries set lease_until = now() - interval '1 second' where uuid = ${uuid!}`;
      await drainWebhookOutbox(
        { sql: app.sql, client: await app.client(), taskQueue: worker.taskQueue, secrets: TEST_SECRETS },
        { limit: 100 },
      );
      await eventually(
        async () => ((await deliveryRow(uuid!)).status === 'delivered' ? true : undefined),
        30_000,
      );
      // then the first attempt's answer comes: recorded as what it was, and the delivery stays delivered
      held[0]!.writeHead(500).end('late');
      const attempts = await eventually(async () => {
        const rows = await attemptsOf(uuid!);
        return rows[0]?.status_code === 500 ? rows : undefined;
      }, 30_000);
      expect(attempts.map((a) => [a.attempt, a.status_code, a.outcome])).toEqual([
        [1, 500, 'retry'],
        [2, 200, 'delivered'],
      ]);
      expect(await deliveryRow(uuid!)).toMatchObject({
        status: 'delivered',
        attempts: 2,
        last_status_code: 200,
      });
    } finally {
      slow.closeAllConnections();
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });
});

describe('herald webhooks', () => {
  it('add, list, test (a signed event through the pipeline worker) and deliveries', async () => {
    const company = await makeCompany(app.sql);
    // `webhooks test` starts its deliveries on the pipeline queue, as in production
    const pipeline = await startTestWorker(app, { taskQueue: TASK_QUEUES.pipeline });
    try {
      const url = receiver.url(`/cli/${company.alias}`);
      const added = await herald([
        'webhooks',
        'add',
        '--company',
        company.alias,
        '--url',
        url,
        '--secret-env',
        SECRET_ENV,
        '--events',
        'packet.completed,webhook.test',
        '--json',
      ]);
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      expect(JSON.parse(added.stdout)).toMatchObject({
        company: company.alias,
        url,
        events: ['packet.completed', 'webhook.test'],
        secret_env: SECRET_ENV,
        active: true,
      });

      const bad = await herald([
        'webhooks',
        'add',
        '--company',
        company.alias,
        '--url',
        url,
        '--secret-env',
        SECRET_ENV,
        '--events',
        'packet.exploded',
      ]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('unknown event(s) packet.exploded');

      const listed = await herald(['webhooks', 'list', '--company', company.alias, '--json']);
      expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ url, active: true })]);

      const sent = await herald(['webhooks', 'test', '--company', company.alias]);
      expect(sent.code).toBe(0);
      expect(sent.stdout).toContain(`delivered ${url}`);
      const got = receiver.received.filter((r) => r.path === `/cli/${company.alias}`);
      expect(got.map((r) => [JSON.parse(r.body).event, r.verified.ok])).toEqual([['webhook.test', true]]);

      const deliveries = await herald(['webhooks', 'deliveries', '--company', company.alias, '--json']);
      expect(JSON.parse(deliveries.stdout)).toEqual([
        expect.objectContaining({
          event: 'webhook.test',
          status: 'delivered',
          attempts: 1,
          last_status_code: 200,
        }),
      ]);
    } finally {
      await pipeline.stop();
    }
  });
});
