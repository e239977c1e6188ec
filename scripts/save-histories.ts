// Runs each herald workflow on real servers and saves its event history under test/histories/ for the replay test.
// Run it (npx tsx scripts/save-histories.ts) when a workflow changes on purpose, and commit the new files.
// It overwrites only the files it writes: histories kept for a patched() branch's old side have names of their own.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import type { Sql } from '../lib/db';
import { createActivities } from '../activities';
import { openApp } from '../lib/app';
import { loadConfigOrExit } from '../lib/config';
import { createLogger } from '../lib/log';
import { regionTaskQueue, SA, WORKFLOW_IDS } from '../lib/names';
import { savedHistoryJSON, savedHistoryPath } from '../lib/replay/saved-histories';
import { createProviderRegistry } from '../lib/providers/registry';
import { connectWorker } from '../lib/temporal';
import { createWorkers, installTemporalLogging } from '../workers/create-workers';
import { buildWorkflowBundle } from '../workers/workflow-bundle';
import { archiveMessages, checkCompanyReadiness, reminderRun } from '../workflows';
import { listActiveAccounts } from '../lib/providers/accounts';
import { createSendWorkers } from '../workers/send-workers';
import { createTestCompany as createSendingCompany } from '../test/support/dispatch';
import { addPerson, newYorker, planTouch, winterNoonInNewYork } from '../test/support/reminders';
import { makeCompany, makeMessages } from '../test/support/archive-fixtures';
import { createTestCompany, csv, daysFromNow, EHR_HEADER, putPacket } from '../test/support/ingest';
import { startPacketIngest } from '../lib/ingest/start-ingest';
import { notifyCompany } from '../lib/webhooks/enqueue';
import { startReceiver } from '../test/support/webhook-receiver';

// expected failures (the unknown company, the missing file) would otherwise print warnings
const log = createLogger({ level: 'error' });
const say = (line: string) => process.stdout.write(line + '\n');
// fresh servers, so the saved histories do not depend on what a developer's database holds
const app = await openApp({ config: loadConfigOrExit(), log, ephemeral: true, setUp: true, notice: say });
installTemporalLogging(log);
const taskQueue = 'save-histories';
const connection = await connectWorker(app.temporal);
const [worker] = await createWorkers({
  connection,
  namespace: app.temporal.namespace,
  taskQueues: [taskQueue],
  activities: createActivities({
    sql: app.sql,
    s3: app.s3,
    bucket: app.bucket,
    log,
    providers: createProviderRegistry({ sql: app.sql, config: app.config }),
  }),
  workflowBundle: await buildWorkflowBundle(),
});
const running = worker!.run();
const client = await app.client();
const saved: string[] = [];

/** Saves every run of the workflow (a continue-as-new chain gives several), numbered from 1. */
async function save(
  label: string,
  handle: WorkflowHandle & { firstExecutionRunId?: string },
  workflowType: string,
): Promise<void> {
  await handle.result().catch(() => {});
  let runId: string | undefined = handle.firstExecutionRunId ?? (await handle.describe()).runId;
  for (let run = 1; runId; run++) {
    const history = await client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
    const file = savedHistoryPath(workflowType, run === 1 ? label : `${label}-run${run}`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, savedHistoryJSON(handle.workflowId, history));
    saved.push(`${path.relative(process.cwd(), file)} (${history.events?.length ?? 0} events)`);
    const last = history.events?.at(-1);
    runId = last?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
}

try {
  const stamp = 'saved';

  await save(
    'ready-company',
    await client.workflow.start(checkCompanyReadiness, {
      taskQueue,
      workflowId: WORKFLOW_IDS.readinessCheck('demo-clinic', stamp),
      args: [{ companyAlias: 'demo-clinic' }],
      typedSearchAttributes: [{ key: SA.CompanyAlias, value: 'demo-clinic' }],
    }),
    'checkCompanyReadiness',
  );
  await save(
    'unknown-company',
    await client.workflow.start(checkCompanyReadiness, {
      taskQueue,
      workflowId: WORKFLOW_IDS.readinessCheck('no-such-company', stamp),
      args: [{ companyAlias: 'no-such-company' }],
    }),
    'checkCompanyReadiness',
  );

  // three batches of two with a continue-as-new after each, then the purge and the history export
  const company = await makeCompany(app.sql, { alias: 'replay-archive', retentionDays: 30 });
  await makeMessages(
    app.sql,
    company.id,
    Array.from({ length: 5 }, (_, i) => ({
      state: 'delivered',
      contactAt: `2025-05-0${i + 1}T10:00:00Z`,
      updates: i % 2,
    })),
  );
  await save(
    'batches-continue-as-new',
    await client.workflow.start(archiveMessages, {
      taskQueue,
      workflowId: WORKFLOW_IDS.archive(stamp),
      args: [{ now: '2025-06-30T03:00:00Z', companyAlias: company.alias, batchSize: 2, batchesPerRun: 1 }],
    }),
    'archiveMessages',
  );

  // an ingest with one good row and one rejected row, and one that fails (its file is not in S3)
  const clinic = await createTestCompany(app, { prefix: 'replay' });
  const file = csv(EHR_HEADER, [
    [
      'P1',
      'Ada',
      'Lovelace',
      '(617) 555-0101',
      '',
      'ada@example.com',
      daysFromNow(7),
      '09:30',
      'A1',
      'scheduled',
      'Dr Who',
      'Main',
      '02139',
      'MA',
      '',
    ],
    ['P2', '', 'Nobody', 'not a phone', '', '', 'someday', '', 'A2', 'scheduled', '', '', '', '', ''],
  ]);
  const { packet } = await putPacket(app, clinic, 'appointments.csv', file);
  await save(
    // one-good-one-rejected.json is the same ingest before REGIONS_COUNTED_NAME and REMINDERS_MADE_WHEN_DUE
    'one-good-one-rejected-patched',
    (await startPacketIngest(client, { packet, companyAlias: clinic.alias, taskQueue })).handle,
    'ingestPacket',
  );
  const { packet: missing } = await putPacket(app, clinic, 'missing.csv', file + '\r\n', { upload: false });
  await save(
    'missing-object',
    (await startPacketIngest(client, { packet: missing, companyAlias: clinic.alias, taskQueue })).handle,
    'ingestPacket',
  );

  // webhook deliveries: one taken after a 500, one refused for good with 410
  process.env.HERALD_SAVE_HISTORIES_WEBHOOK_SECRET = 'whsec_save_histories';
  const receiver = await startReceiver(process.env.HERALD_SAVE_HISTORIES_WEBHOOK_SECRET);
  try {
    receiver.answer('/retry', [500, 200]);
    receiver.answer('/gone', [410]);
    for (const [label, path] of [
      ['delivered-after-retry', '/retry'],
      ['gone', '/gone'],
    ] as const) {
      await app.sql`
        insert into webhook_endpoints (company_id, url, events, secret_env, retry_initial_ms)
        values (${company.id}, ${receiver.url(path)}, ${['packet.completed']}, 'HERALD_SAVE_HISTORIES_WEBHOOK_SECRET', 200)`;
      const [queued] = await notifyCompany(
        { sql: app.sql, client, taskQueue },
        {
          companyId: company.id,
          event: 'packet.completed',
          payload: { packetId: label },
          eventKey: label,
        },
      );
      await save(label, client.workflow.getHandle(queued!.workflowId), 'deliverWebhook');
      await app.sql`update webhook_endpoints set active = false where company_id = ${company.id}`;
    }
  } finally {
    await receiver.close();
  }

  // a reminder run: its region (on the region's queue) screens in pages and its texts go out on the
  // outbox account's send queue, so both get workers here
  const activities = createActivities({
    sql: app.sql,
    s3: app.s3,
    bucket: app.bucket,
    log,
    providers: createProviderRegistry({ sql: app.sql, config: app.config }),
  });
  const helpers = [
    ...(await createWorkers({
      connection,
      namespace: app.temporal.namespace,
      taskQueues: [regionTaskQueue('northeast')],
      activities,
      workflowBundle: await buildWorkflowBundle(),
    })),
    ...(await createSendWorkers({
      sql: app.sql,
      connection,
      namespace: app.temporal.namespace,
      accounts: (await listActiveAccounts(app.sql)).filter((a) => a.key.startsWith('outbox-')),
      activities,
    })),
  ];
  const helping = helpers.map((w) => w.run());
  try {
    const sender = await createSendingCompany(app.sql, { credits: 100 });
    const now = new Date('2025-01-07T17:00:00Z');
    await addDueNewYorkers(app.sql, sender.id, now, 3, 60_000);
    const runId = WORKFLOW_IDS.reminderRun(sender.alias, stamp);
    await client.workflow.execute(reminderRun, {
      taskQueue,
      workflowId: runId,
      // the region screens all three, in pages (the run's own first page would take them)
      args: [{ companyAlias: sender.alias, now: now.toISOString(), pageSize: 2, firstPage: 0 }],
    });
    const regionId = WORKFLOW_IDS.reminderRegion(runId, 'northeast');
    await save('pages-of-two', client.workflow.getHandle(regionId), 'reminderRegion');

    // a run that sends its first page itself (its opening hundred, then the rest of the page in an
    // ordinary activity) and leaves what is left to a region child
    const busy = await createSendingCompany(app.sql, { credits: 200 });
    await addDueNewYorkers(app.sql, busy.id, now, 115, 1_000);
    await save(
      'first-page-and-a-region',
      await client.workflow.start(reminderRun, {
        taskQueue,
        workflowId: WORKFLOW_IDS.reminderRun(busy.alias, stamp),
        args: [{ companyAlias: busy.alias, now: now.toISOString(), firstPage: 110 }],
      }),
      'reminderRun',
    );
    const dispatched = WORKFLOW_IDS.dispatch(sender.alias, 'sms', `${runId}/northeast`);
    if (
      await client.workflow
        .getHandle(dispatched)
        .describe()
        .then(
          () => true,
          () => false,
        )
    )
      await save('screened-by-region', client.workflow.getHandle(dispatched), 'dispatchMessages');
  } finally {
    helpers.forEach((w) => w.shutdown());
    await Promise.all(helping);
  }

  for (const line of saved) say(`saved ${line}`);
} finally {
  worker!.shutdown();
  await running;
  await connection.close();
  await app.close();
}

/**
 * `count` New Yorkers, each with an appointment after the run and its sms-1d touch due: the first an
 * hour before `now`, the rest `spacingMs` apart.
 */
async function addDueNewYorkers(sql: Sql, companyId: number, now: Date, count: number, spacingMs: number) {
  const appointmentAt = new Date(Math.max(Date.now(), winterNoonInNewYork().getTime()) + 86_400_000);
  for (let i = 0; i < count; i++) {
    const person = await addPerson(sql, companyId, { ...newYorker, appointmentAt });
    await planTouch(sql, companyId, person, {
      channel: 'sms',
      contactAt: new Date(now.getTime() - 3_600_000 + i * spacingMs),
      step: 'sms-1d',
      region: newYorker.region,
    });
  }
}
