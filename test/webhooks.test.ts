import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../activities';
import type { App } from '../lib/app';
import { createProviderRegistry } from '../lib/providers/registry';
import { notifyCompany, type NotifyCompanyInput, type QueuedDelivery } from '../lib/webhooks/enqueue';
import { makeCompany } from './support/archive-fixtures';
import { TASK_QUEUES } from '../lib/names';
import { herald } from './support/cli';
import { openTestApp, startTestWorker, type TestWorker } from './support/harness';
import { startReceiver, type Receiver } from './support/webhook-receiver';

const SECRET_ENV = 'HERALD_TEST_WEBHOOK_SECRET';
const secret = `whsec_${randomUUID()}`;
let app: App;
let worker: TestWorker;
let receiver: Receiver;

beforeAll(async () => {
  // the workers sign with the key the endpoint names by variable; the test's worker runs in this process
  process.env[SECRET_ENV] = secret;
  app = await openTestApp();
  worker = await startTestWorker(app);
  receiver = await startReceiver(secret);
});
afterAll(async () => {
  await worker?.stop();
  await receiver?.close();
  await app?.close();
});

async function addEndpoint(companyId: number, path: string, opts: { events?: string[]; maxAttempts?: number; secretEnv?: string } = {}) {
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
    queued.map((q) => client.workflow.getHandle(q.workflowId).result().then(() => 'delivered', (e: unknown) => e as WorkflowFailedError)),
  );
  return { queued, outcomes };
}

async function attemptsOf(deliveryId: string) {
  return app.sql<{ attempt: number; status_code: number | null; outcome: string; duration_ms: number }[]>`
    select a.attempt, a.status_code, a.outcome, a.duration_ms from webhook_attempts a
    join webhook_deliveries d on d.id = a.delivery_id where d.uuid = ${deliveryId} order by a.attempt`;
}

async function deliveryRow(deliveryId: string) {
  const [row] = await app.sql<{ status: string; attempts: number; last_status_code: number | null; last_error: string | null; delivered_at: Date | null }[]>`
    select status, attempts, last_status_code, last_error, delivered_at from webhook_deliveries where uuid = ${deliveryId}`;
  return row!;
}

describe('outbound webhooks', () => {
  it('delivers a signed packet.completed the receiver verifies, records it, and sends the same event once', async () => {
    const company = await makeCompany(app.sql);
    await addEndpoint(company.id, `/ok/${company.alias}`);
    const payload = { packetId: randomUUID(), fileName: 'appointments.csv', rowsLoaded: 120, rowsRejected: 3 };
    const { queued, outcomes } = await notifyAndWait({ companyId: company.id, event: 'packet.completed', payload, eventKey: `packet:${payload.packetId}:completed` });
    expect(outcomes).toEqual(['delivered']);
    const got = receiver.received.filter((r) => r.path === `/ok/${company.alias}`);
    expect(got).toHaveLength(1);
    expect(got[0]!.verified.ok).toBe(true);
    expect(got[0]!.headers['x-herald-event']).toBe('packet.completed');
    expect(got[0]!.headers['x-herald-delivery']).toBe(queued[0]!.deliveryId);
    expect(JSON.parse(got[0]!.body)).toMatchObject({ id: queued[0]!.deliveryId, event: 'packet.completed', company: company.alias, data: payload });
    expect(await deliveryRow(queued[0]!.deliveryId)).toMatchObject({ status: 'delivered', attempts: 1, last_status_code: 200 });
    expect(await attemptsOf(queued[0]!.deliveryId)).toEqual([expect.objectContaining({ attempt: 1, status_code: 200, outcome: 'delivered' })]);

    const again = await notifyAndWait({ companyId: company.id, event: 'packet.completed', payload, eventKey: `packet:${payload.packetId}:completed` });
    expect(again.queued).toEqual([expect.objectContaining({ deliveryId: queued[0]!.deliveryId, created: false })]);
    expect(receiver.received.filter((r) => r.path === `/ok/${company.alias}`)).toHaveLength(1);
  });

  it('retries after a 500 with backoff until the receiver takes it, the same body each time; every attempt recorded', async () => {
    const company = await makeCompany(app.sql);
    const path = `/flaky/${company.alias}`;
    receiver.answer(path, [500, 503, 200]);
    await addEndpoint(company.id, path);
    const { queued, outcomes } = await notifyAndWait({ companyId: company.id, event: 'message.delivered', payload: { messageId: randomUUID(), channel: 'sms' } });
    expect(outcomes).toEqual(['delivered']);
    const got = receiver.received.filter((r) => r.path === path);
    expect(got).toHaveLength(3);
    expect(got.every((r) => r.verified.ok)).toBe(true);
    expect(new Set(got.map((r) => r.body)).size).toBe(1);
    const attempts = await attemptsOf(queued[0]!.deliveryId);
    expect(attempts.map((a) => [a.attempt, a.status_code, a.outcome])).toEqual([[1, 500, 'retry'], [2, 503, 'retry'], [3, 200, 'delivered']]);
    expect(await deliveryRow(queued[0]!.deliveryId)).toMatchObject({ status: 'delivered', attempts: 3 });
  });

  it('stops at once on 410 Gone, marks the delivery failed and switches the endpoint off', async () => {
    const company = await makeCompany(app.sql);
    const path = `/gone/${company.alias}`;
    receiver.answer(path, [410]);
    const endpointId = await addEndpoint(company.id, path);
    const { queued, outcomes } = await notifyAndWait({ companyId: company.id, event: 'packet.failed', payload: { packetId: randomUUID(), error: 'no rows' } });
    expect(outcomes[0]).toBeInstanceOf(WorkflowFailedError);
    expect(((outcomes[0] as WorkflowFailedError).cause as Error).message).toBe('webhook not delivered: the endpoint answered 410 Gone');
    expect(receiver.received.filter((r) => r.path === path)).toHaveLength(1);
    expect(await attemptsOf(queued[0]!.deliveryId)).toEqual([expect.objectContaining({ attempt: 1, status_code: 410, outcome: 'permanent' })]);
    expect(await deliveryRow(queued[0]!.deliveryId)).toMatchObject({ status: 'failed', attempts: 1, last_status_code: 410 });
    const [endpoint] = await app.sql<{ active: boolean; disabled_reason: string }[]>`select active, disabled_reason from webhook_endpoints where id = ${endpointId}`;
    expect(endpoint).toMatchObject({ active: false, disabled_reason: expect.stringMatching(/^answered 410 Gone at /) });
    expect((await notifyAndWait({ companyId: company.id, event: 'packet.failed', payload: { again: true } })).queued).toEqual([]);
  });

  it('gives up after the endpoint\'s max attempts, and sends each endpoint only the events it asked for', async () => {
    const company = await makeCompany(app.sql);
    const down = `/down/${company.alias}`;
    receiver.answer(down, [503]);
    await addEndpoint(company.id, down, { maxAttempts: 3 });
    await addEndpoint(company.id, `/failures-only/${company.alias}`, { events: ['packet.failed'] });
    const { queued, outcomes } = await notifyAndWait({ companyId: company.id, event: 'packet.completed', payload: { n: 1 } });
    expect(queued).toHaveLength(1);
    expect(outcomes[0]).toBeInstanceOf(WorkflowFailedError);
    expect((await attemptsOf(queued[0]!.deliveryId)).map((a) => a.status_code)).toEqual([503, 503, 503]);
    expect(await deliveryRow(queued[0]!.deliveryId)).toMatchObject({ status: 'failed', attempts: 3, last_error: 'the endpoint answered 503 Service Unavailable' });
    expect(receiver.received.filter((r) => r.path === `/failures-only/${company.alias}`)).toHaveLength(0);
  });

  it('fails a delivery whose secret variable is not set on the worker, naming the variable, without sending', async () => {
    const company = await makeCompany(app.sql);
    const path = `/nosecret/${company.alias}`;
    await addEndpoint(company.id, path, { secretEnv: 'HERALD_TEST_UNSET_WEBHOOK_SECRET' });
    const { queued, outcomes } = await notifyAndWait({ companyId: company.id, event: 'webhook.test', payload: {} });
    expect(outcomes[0]).toBeInstanceOf(WorkflowFailedError);
    expect((await deliveryRow(queued[0]!.deliveryId)).last_error).toMatch(/HERALD_TEST_UNSET_WEBHOOK_SECRET .*is not set/);
    expect(receiver.received.filter((r) => r.path === path)).toHaveLength(0);
  });

  it('is callable as the notifyCompany activity; deliveries run on the calling worker\'s task queue', async () => {
    const company = await makeCompany(app.sql);
    await addEndpoint(company.id, `/activity/${company.alias}`);
    const client = await app.client();
    const activities = createActivities({
      sql: app.sql, s3: app.s3, bucket: app.bucket, log: app.log, providers: createProviderRegistry({ sql: app.sql, config: app.config }),
    });
    const env = new MockActivityEnvironment({ taskQueue: worker.taskQueue }, { client });
    const input: NotifyCompanyInput = { companyId: company.id, event: 'message.failed', payload: { messageId: 'm1' } };
    const queued = (await env.run(activities.notifyCompany, input)) as QueuedDelivery[];
    expect(queued).toHaveLength(1);
    await client.workflow.getHandle(queued[0]!.workflowId).result();
    expect(receiver.received.filter((r) => r.path === `/activity/${company.alias}`).map((r) => r.verified.ok)).toEqual([true]);
  });
});

describe('herald webhooks', () => {
  it('add, list, test (a signed event through the pipeline worker) and deliveries', async () => {
    const company = await makeCompany(app.sql);
    // `webhooks test` starts its deliveries on the pipeline queue, as in production
    const pipeline = await startTestWorker(app, { taskQueue: TASK_QUEUES.pipeline });
    try {
      const url = receiver.url(`/cli/${company.alias}`);
      const added = await herald(['webhooks', 'add', '--company', company.alias, '--url', url, '--secret-env', SECRET_ENV,
        '--events', 'packet.completed,webhook.test', '--json']);
      expect(added.stderr).toBe('');
      expect(added.code).toBe(0);
      expect(JSON.parse(added.stdout)).toMatchObject({ company: company.alias, url, events: ['packet.completed', 'webhook.test'], secret_env: SECRET_ENV, active: true });

      const bad = await herald(['webhooks', 'add', '--company', company.alias, '--url', url, '--secret-env', SECRET_ENV, '--events', 'packet.exploded']);
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
      expect(JSON.parse(deliveries.stdout)).toEqual([expect.objectContaining({ event: 'webhook.test', status: 'delivered', attempts: 1, last_status_code: 200 })]);
    } finally {
      await pipeline.stop();
    }
  });
});
