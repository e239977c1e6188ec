// The outbox drainer's first attempts end with its activity: a cancelled drainer cuts its POSTs short,
// records them, and leaves the deliveries to a workflow, which delivers each once.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { WORKFLOW_IDS } from '../lib/names';
import { ensureWebhookDrainer } from '../lib/webhooks/drainer';
import { makeCompany } from './support/archive-fixtures';
import { eventually, openTestApp, startTestWorker, type TestWorker } from './support/harness';

const SECRET_ENV = 'HERALD_SECRET_TEST_DRAIN_CANCEL';
let app: App;
let worker: TestWorker;

beforeAll(async () => {
  process.env[SECRET_ENV] = `whsec_${randomUUID()}`;
  app = await openTestApp();
  // heartbeats, and with them a cancellation, pass every second (production: the worker's throttle)
  worker = await startTestWorker(app, { heartbeatThrottleMs: 1000 });
});
afterAll(async () => {
  await worker?.stop();
  await app?.close();
});

/** A receiver that holds the first request unanswered (noting when its connection closes) and takes the rest. */
async function slowReceiver() {
  const seen = { requests: 0, answered200: 0, firstArrived: false, firstClosedAt: 0 };
  const server: Server = createServer((req, res) => {
    req.resume();
    if (++seen.requests === 1) {
      seen.firstArrived = true;
      res.on('close', () => (seen.firstClosedAt = Date.now()));
      return;
    }
    req.on('end', () => {
      seen.answered200++;
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    seen,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/slow`,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** One event in the outbox (as a trigger records it) for an endpoint whose timeout is far beyond the test's patience. */
async function slowEvent(url: string): Promise<string> {
  const company = await makeCompany(app.sql);
  const [row] = await app.sql<{ uuid: string }[]>`
    with e as (
      insert into webhook_endpoints (company_id, url, events, secret_env, max_attempts, retry_initial_ms, timeout_ms)
      values (${company.id}, ${url}, ${[]}, ${SECRET_ENV}, 5, 200, 60000) returning id)
    insert into webhook_deliveries (endpoint_id, company_id, event, event_key, payload)
    select e.id, ${company.id}, 'message.sent', 'message:slow', '{}' from e
    returning uuid`;
  return row!.uuid;
}

const startDrainer = async (taskQueue: string, workflowId: string) =>
  ensureWebhookDrainer(await app.client(), {
    taskQueue,
    workflowId,
    input: { pollMs: 200, runForMs: 60_000, batchSize: 10 },
  });

const attemptsOf = (uuid: string) => app.sql<
  { attempt: number; status_code: number | null; outcome: string; error: string | null }[]
>`
  select a.attempt, a.status_code, a.outcome, a.error from webhook_attempts a
  join webhook_deliveries d on d.id = a.delivery_id where d.uuid = ${uuid} order by a.attempt`;

/** Attempt 1 recorded as cut short, and the delivery left for a workflow with its claim over (not a lease's length later). */
async function expectCutShort(uuid: string) {
  const cut = await eventually(async () => {
    const rows = await attemptsOf(uuid);
    return rows[0]?.outcome === 'unknown' ? undefined : rows;
  }, 15_000);
  expect(cut).toEqual([
    { attempt: 1, status_code: null, outcome: 'retry', error: 'cancelled before the endpoint answered' },
  ]);
  const held = await eventually(async () => {
    const [d] = await app.sql<{ status: string; workflow_id: string | null; claim_over: boolean }[]>`
      select status, workflow_id, lease_until <= now() as claim_over from webhook_deliveries where uuid = ${uuid}`;
    return d?.claim_over ? d : undefined;
  }, 15_000);
  expect(held).toEqual({ status: 'delivering', workflow_id: null, claim_over: true });
}

/**
 * An event whose first POST a drainer on `taskQueue` holds open at `receiver`, then `end` (the
 * drainer's cancellation or its worker's shutdown): the POST is cut short within 5 s and recorded so.
 */
async function cutShortBy(
  receiver: Awaited<ReturnType<typeof slowReceiver>>,
  taskQueue: string,
  drainerId: string,
  end: () => Promise<unknown>,
): Promise<string> {
  const uuid = await slowEvent(receiver.url);
  await startDrainer(taskQueue, drainerId);
  await eventually(async () => (receiver.seen.firstArrived ? true : undefined), 30_000);
  const endedAt = Date.now();
  await end();
  await eventually(async () => (receiver.seen.firstClosedAt ? true : undefined), 15_000);
  expect(receiver.seen.firstClosedAt - endedAt).toBeLessThan(5000);
  await expectCutShort(uuid);
  return uuid;
}

/** Delivered by its workflow's attempt 2, the receiver answering 200 once. */
async function expectDeliveredOnce(uuid: string, seen: { requests: number; answered200: number }) {
  const delivered = await eventually(async () => {
    const [d] = await app.sql<{ status: string; attempts: number; workflow_id: string | null }[]>`
      select status, attempts, workflow_id from webhook_deliveries where uuid = ${uuid}`;
    return d?.status === 'delivered' ? d : undefined;
  }, 60_000);
  expect(delivered).toEqual({
    status: 'delivered',
    attempts: 2,
    workflow_id: WORKFLOW_IDS.webhookDelivery(uuid),
  });
  expect((await attemptsOf(uuid)).map((a) => [a.attempt, a.status_code, a.outcome])).toEqual([
    [1, null, 'retry'],
    [2, 200, 'delivered'],
  ]);
  await (await app.client()).workflow.getHandle(WORKFLOW_IDS.webhookDelivery(uuid)).result();
  expect(seen).toMatchObject({ requests: 2, answered200: 1 });
}

describe('a cancelled outbox drainer', () => {
  it('cuts its in-flight first attempt short, records it, and a workflow delivers the event once', async () => {
    const client = await app.client();
    const receiver = await slowReceiver();
    const drainerId = `webhooks/drain/test-${randomUUID()}`;
    try {
      const uuid = await cutShortBy(receiver, worker.taskQueue, drainerId, () =>
        client.workflow.getHandle(drainerId).cancel(),
      );

      // the next drainer run hands it to its workflow, whose attempt 2 is taken
      await startDrainer(worker.taskQueue, drainerId);
      await expectDeliveredOnce(uuid, receiver.seen);
    } finally {
      await client.workflow
        .getHandle(drainerId)
        .terminate('test over')
        .catch(() => undefined);
      await receiver.close();
    }
  });

  it('cuts it short when its worker shuts down, and the next worker delivers the event once', async () => {
    const client = await app.client();
    const receiver = await slowReceiver();
    const drainerId = `webhooks/drain/test-${randomUUID()}`;
    const leaving = await startTestWorker(app, { heartbeatThrottleMs: 1000 });
    let next: TestWorker | undefined;
    try {
      // a shutdown waits for its activities: without the cancellation reaching the POST, a minute
      const uuid = await cutShortBy(receiver, leaving.taskQueue, drainerId, () => leaving.stop());

      // the drainer's activity is retried on the next worker of its queue, which hands the delivery on
      next = await startTestWorker(app, { taskQueue: leaving.taskQueue, heartbeatThrottleMs: 1000 });
      await expectDeliveredOnce(uuid, receiver.seen);
    } finally {
      await client.workflow
        .getHandle(drainerId)
        .terminate('test over')
        .catch(() => undefined);
      await next?.stop();
      await receiver.close();
    }
  });
});
