// Operations: a worker's /metrics, /livez and /readyz, `herald status`, and CLI waits that notice a
// queue nobody polls. In a namespace of its own, so no other test's workers (or their pollers, which
// Temporal remembers for minutes) are seen.
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../lib/db';
import { TASK_QUEUES } from '../lib/names';
import { freePort } from '../lib/runtime/ports';
import type { HeraldStatus } from '../scripts/commands/status';
import { herald } from './support/cli';
import { killWorkerProcesses, startWorkerProcess } from './support/worker-process';

const namespace = `herald-ops-${randomUUID().slice(0, 8)}`;
const env = { TEMPORAL_NAMESPACE: namespace };
let sql: Sql;
let opsPort: number;

beforeAll(async () => {
  sql = createSql({ url: process.env.DATABASE_URL!, actor: 'test' });
  const connection = await Connection.connect({ address: process.env.TEMPORAL_ADDRESS! });
  try {
    await connection.workflowService.registerNamespace({
      namespace,
      workflowExecutionRetentionPeriod: msToTs('1 day'),
    });
    // a new namespace answers once the frontend's cache has it
    for (let i = 0; i < 100; i++) {
      const ok = await connection.workflowService.describeNamespace({ namespace }).then(
        () => true,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await connection.close();
  }
});
afterAll(async () => {
  killWorkerProcesses();
  await sql?.end();
});

describe('CLI waits', () => {
  it('say that no worker polls the queue, and give up after --timeout with exit 1', async () => {
    const run = await herald(['check', '--company', 'demo-clinic', '--timeout', '3'], env);
    expect(run.stderr).toContain(`no worker is polling ${TASK_QUEUES.pipeline}`);
    expect(run.stderr).toMatch(/gave up waiting for the readiness check of demo-clinic after 3 s/);
    expect(run.code).toBe(1);
  });

  it('refuse a --timeout that is not a number of seconds', async () => {
    const run = await herald(['reminders', 'run', '--company', 'demo-clinic', '--timeout', 'soon'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--timeout must be a number of seconds above 0 (got "soon")');
  });
});

describe('a worker process', () => {
  beforeAll(async () => {
    opsPort = await freePort();
    await startWorkerProcess(TASK_QUEUES.pipeline, { ...env, OPS_PORT: String(opsPort) });
  });

  it('answers /livez, and /readyz once its workers run', async () => {
    expect((await fetch(`http://127.0.0.1:${opsPort}/livez`)).status).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${opsPort}/readyz`);
    expect(await ready.text()).toBe('ready\n');
    expect(ready.status).toBe(200);
  });

  it("serves herald's metrics, read from the database, and the Temporal SDK's on /metrics", async () => {
    const res = await fetch(`http://127.0.0.1:${opsPort}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const samples = (name: string) =>
      [...text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, 'gm'))].map((m) => Number(m[2]));
    const sum = (name: string) => samples(name).reduce((a, b) => a + b, 0);
    const [packets] = await sql<{ n: number }[]>`select count(*)::int as n from data_packets`;
    const [messages] = await sql<{ n: number }[]>`select count(*)::int as n from messages`;
    expect(sum('herald_packets')).toBe(packets!.n);
    expect(sum('herald_messages')).toBe(messages!.n);
    for (const name of [
      'herald_packet_rows',
      'herald_send_cap_per_second',
      'herald_sent_per_second',
      'herald_webhook_backlog',
      'herald_oldest_due_message_seconds',
    ])
      expect(text, name).toContain(`# TYPE ${name} gauge`);
    // the SDK's own: its workers' pollers and task slots
    expect(text).toMatch(/^temporal_\w+/m);
  });

  it('shows in herald status: the queue it polls, the schedules it keeps, the companies', async () => {
    const run = await herald(['status', '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout) as HeraldStatus;
    const pipeline = status.taskQueues.find((q) => q.name === TASK_QUEUES.pipeline);
    expect(pipeline?.pollers).toBeGreaterThanOrEqual(1);
    expect(status.schedules.map((s) => s.id)).toEqual(
      expect.arrayContaining([expect.stringMatching(/archive/)]),
    );
    expect(status.companies.map((c) => c.company)).toContain('demo-clinic');
    const text = await herald(['status'], env);
    expect(text.stdout).toContain('Task queues');
    expect(text.stdout).toContain(TASK_QUEUES.pipeline);
  });
});
