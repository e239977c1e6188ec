// The ingest workflow itself: history that does not grow with the file, one run per packet, visible failure.
import { CancelledFailure, WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { startPacketIngest } from '../lib/ingest/start-ingest';
import { SA } from '../lib/names';
import { eventually, type TestWorker } from './support/harness';
import { ehrRows, ingestFile, putPacket, type TestCompany } from './support/ingest';
import { useIngestEnv } from './support/ingest-env';

let app: App;
let worker: TestWorker;
let company: TestCompany;

useIngestEnv('wf', (env) => ({ app, worker, company } = env));

describe('the ingest workflow', () => {
  it('keeps row data out of its history: a 5,000-row file makes as many events as a 50-row file', async () => {
    const small = await ingestFile(app, worker.taskQueue, company, 'small.csv', ehrRows(50, 'S'));
    const large = await ingestFile(app, worker.taskQueue, company, 'large.csv', ehrRows(5000, 'L'));
    expect(small.summary).toMatchObject({ stage: 'done', rowsLoaded: 50 });
    expect(large.summary).toMatchObject({ stage: 'done', rowsLoaded: 5000 });
    const client = await app.client();
    const historyOf = async (id: string) => (await client.workflow.getHandle(id).fetchHistory()).events ?? [];
    const [smallHistory, largeHistory] = await Promise.all([
      historyOf(small.workflowId),
      historyOf(large.workflowId),
    ]);
    expect(largeHistory.length).toBe(smallHistory.length);
    const text = JSON.stringify(largeHistory);
    expect(text).not.toContain('Quixote');
    expect(text).not.toContain('ZeldaL');
    expect(text).not.toContain('6175551');
  });

  it('starts once per packet: a second start joins or finds the first run', async () => {
    const { packet } = await putPacket(app, company, 'once.csv', ehrRows(3, 'O'));
    const client = await app.client();
    const first = await startPacketIngest(client, {
      packet,
      companyAlias: company.alias,
      taskQueue: worker.taskQueue,
    });
    await first.handle.result();
    const second = await startPacketIngest(client, {
      packet,
      companyAlias: company.alias,
      taskQueue: worker.taskQueue,
    });
    expect(second).toMatchObject({ workflowId: first.workflowId, started: false });
    expect((await second.handle.describe()).runId).toBe((await first.handle.describe()).runId);
    const [events] = await app.sql<{ n: number }[]>`
      select count(*)::int as n from packet_events where packet_id = ${packet.id} and stage = 'done'`;
    expect(events!.n).toBe(1);
  });

  it('fails without retrying for a problem a person must fix, and says so on the packet and in search', async () => {
    const { packet, summary, failure, workflowId } = await ingestFile(
      app,
      worker.taskQueue,
      company,
      'wrong.csv',
      'a,b\r\n1,2\r\n',
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(failure!.cause).toMatchObject({ type: 'MissingColumns', nonRetryable: true });
    expect(summary.stage).toBe('failed');
    expect(summary.error).toMatch(/^the file lacks required columns: external_id \("Patient ID"\)/);
    const client = await app.client();
    const history = await client.workflow.getHandle(workflowId).fetchHistory();
    const attempts = history
      .events!.filter((e) => e.activityTaskStartedEventAttributes)
      .map((e) => e.activityTaskStartedEventAttributes!.attempt ?? 0);
    expect(Math.max(...attempts)).toBe(1);
    const found = await eventually(async () => {
      for await (const wf of client.workflow.list({
        query: `PacketId = '${packet.uuid}' AND PacketStage = 'failed'`,
      }))
        return wf;
      return undefined;
    });
    expect(found.typedSearchAttributes.get(SA.CompanyAlias)).toBe(company.alias);
    expect(found.status.name).toBe('FAILED');
  });

  it('stops when an operator cancels it, and marks the packet cancelled with no staging rows left', async () => {
    const { packet } = await putPacket(app, company, 'cancel.csv', ehrRows(60_000, 'C'));
    const { handle } = await startPacketIngest(await app.client(), {
      packet,
      companyAlias: company.alias,
      taskQueue: worker.taskQueue,
    });
    await eventually(
      async () => ((await handle.describe()).raw.pendingActivities?.[0]?.heartbeatDetails ? true : undefined),
      60_000,
    );
    await handle.cancel();
    const error = await handle.result().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toBeInstanceOf(CancelledFailure);
    const [state] = await app.sql<{ stage: string; staging: number }[]>`
      select p.stage, (select count(*)::int from packet_rows r where r.packet_id = p.id) as staging
      from data_packets p where p.id = ${packet.id}`;
    expect(state).toEqual({ stage: 'cancelled', staging: 0 });
  });
});
