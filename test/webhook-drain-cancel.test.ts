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

describe('a cancelled outbox drainer', () => {
  it('cuts its in-flight first attempt short, records it, and a workflow delivers the event once', async () => {
    const client = await app.client();
    const company = await makeCompany(app.sql);
    const receiver = await slowReceiver();
    const drainerId = `webhooks/drain/test-${randomUUID()}`;
    const drain = () =>
      ensureWebhookDrainer(client, {
        taskQueue: worker.taskQueue,
        workflowId: drainerId,
        input: { pollMs: 200, runForMs: 60_000, batchSize: 10 },
      });
    try {
      // a timeout far beyond the test's patience: only the cancellation can end the first attempt early
      const [row] = await app.sql<{ uuid: string }[]>`
        with e as (
          insert into webhook_endpoints (company_id, url, events, secret_env, max_attempts, retry_initial_ms, timeout_ms)
          values (${company.id}, ${receiver.url}, ${[]}, ${SECRET_ENV}, 5, 200, 60000) returning id)
        insert into webhook_deliveries (endpoint_id, company_id, event, event_key, payload)
        select e.id, ${company.id}, 'message.sent', 'message:slow', '{}' from e
        returning uuid`;
      const uuid = row!.uuid;
      await drain();
      await eventually(async () => (receiver.seen.firstArrived ? true : undefined), 30_000);

      const cancelledAt = Date.now();
      await client.workflow.getHandle(drainerId).cancel();
      await eventually(async () => (receiver.seen.firstClosedAt ? true : undefined), 15_000);
      expect(receiver.seen.firstClosedAt - cancelledAt).toBeLessThan(5000);

      // recorded as cancelled, and left for a workflow: not handed on by the cancelled run itself
      const attempts = () => app.sql<
        { attempt: number; status_code: number | null; outcome: string; error: string | null }[]
      >`
        select a.attempt, a.status_code, a.outcome, a.error from webhook_attempts a
        join webhook_deliveries d on d.id = a.delivery_id where d.uuid = ${uuid} order by a.attempt`;
      const cut = await eventually(async () => {
        const rows = await attempts();
        return rows[0]?.outcome === 'unknown' ? undefined : rows;
      }, 15_000);
      expect(cut).toEqual([
        { attempt: 1, status_code: null, outcome: 'retry', error: 'cancelled before the endpoint answered' },
      ]);
      // its claim ends as soon as the pass has recorded it (not a lease's length later)
      const held = await eventually(async () => {
        const [d] = await app.sql<{ status: string; workflow_id: string | null; claim_over: boolean }[]>`
          select status, workflow_id, lease_until <= now() as claim_over from webhook_deliveries where uuid = ${uuid}`;
        return d?.claim_over ? d : undefined;
      }, 15_000);
      expect(held).toEqual({ status: 'delivering', workflow_id: null, claim_over: true });

      // the next drainer run hands it to its workflow, whose attempt 2 is taken
      await drain();
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
      expect((await attempts()).map((a) => [a.attempt, a.status_code, a.outcome])).toEqual([
        [1, null, 'retry'],
        [2, 200, 'delivered'],
      ]);
      await client.workflow.getHandle(WORKFLOW_IDS.webhookDelivery(uuid)).result();
      expect(receiver.seen).toMatchObject({ requests: 2, answered200: 1 });
    } finally {
      await client.workflow
        .getHandle(drainerId)
        .terminate('test over')
        .catch(() => undefined);
      await receiver.close();
    }
  });
});
