import { GetObjectCommand } from '@aws-sdk/client-s3';
import { WorkflowFailedError } from '@temporalio/client';
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { SA, WORKFLOW_IDS } from '../lib/names';
import { checkCompanyReadiness } from '../workflows';
import { readinessProgressQuery } from '../workflows/check-company-readiness';
import { eventually, type TestWorker } from './support/harness';
import { useWorkerEnv } from './support/worker-env';

let app: App;
let worker: TestWorker;

useWorkerEnv((env) => ({ app, worker } = env));

describe('the readiness check workflow, on the real Temporal server', () => {
  it('reads the company from Postgres and stores its report in S3', async () => {
    const client = await app.client();
    const workflowId = WORKFLOW_IDS.readinessCheck('demo-clinic', `test-${Date.now()}`);
    const handle = await client.workflow.start(checkCompanyReadiness, {
      taskQueue: worker.taskQueue,
      workflowId,
      args: [{ companyAlias: 'demo-clinic' }],
      typedSearchAttributes: [{ key: SA.CompanyAlias, value: 'demo-clinic' }],
    });
    const result = await handle.result();
    expect(result).toMatchObject({
      companyAlias: 'demo-clinic',
      companyName: 'Lakeside Family Clinic',
      ready: true,
      problems: [],
      activeLoadMaps: ['ehr-appointments@v1'],
      // the global reminder template, and the one a moved appointment's reminders use
      templatesByChannel: {
        sms: ['appointment_moved', 'appointment_reminder'],
        voice: ['appointment_moved', 'appointment_reminder'],
        email: ['appointment_moved', 'appointment_reminder'],
      },
    });
    expect(result.creditBalance).toBeGreaterThan(0);
    expect(result.regions).toBe(7);

    const object = await app.s3.send(new GetObjectCommand({ Bucket: app.bucket, Key: result.reportKey }));
    const stored = JSON.parse((await object.Body!.transformToString()) as string);
    expect(stored).toMatchObject({ workflowId, companyAlias: 'demo-clinic', problems: [] });

    expect(await handle.query(readinessProgressQuery)).toEqual({ step: 'done' });
  });

  it('is findable by its CompanyAlias search attribute', async () => {
    const client = await app.client();
    const alias = 'demo-clinic';
    const handle = await client.workflow.start(checkCompanyReadiness, {
      taskQueue: worker.taskQueue,
      workflowId: WORKFLOW_IDS.readinessCheck(alias, `search-${Date.now()}`),
      args: [{ companyAlias: alias }],
      typedSearchAttributes: [{ key: SA.CompanyAlias, value: alias }],
    });
    await handle.result();
    const found = await eventually(async () => {
      for await (const wf of client.workflow.list({
        query: `CompanyAlias = '${alias}' AND WorkflowId = '${handle.workflowId}'`,
      })) {
        return wf;
      }
      return undefined;
    });
    expect(found.typedSearchAttributes.get(SA.CompanyAlias)).toBe(alias);
  });

  it('fails at once, without retrying, for an unknown company, naming the alias', async () => {
    const client = await app.client();
    const handle = await client.workflow.start(checkCompanyReadiness, {
      taskQueue: worker.taskQueue,
      workflowId: WORKFLOW_IDS.readinessCheck('no-such-co', `${Date.now()}`),
      args: [{ companyAlias: 'no-such-co' }],
    });
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const cause = (error as WorkflowFailedError).cause?.cause as Error & {
      type?: string;
      nonRetryable?: boolean;
    };
    expect(cause.message).toBe('no company has the alias "no-such-co"');
    expect(cause.type).toBe('UnknownCompany');
    const history = await handle.fetchHistory();
    const attempts = history.events?.filter((e) => e.activityTaskStartedEventAttributes) ?? [];
    expect(attempts.every((e) => Number(e.activityTaskStartedEventAttributes?.attempt) === 1)).toBe(true);
  });

  it('reports a company that is not ready, with the reasons', async () => {
    await app.sql`insert into companies (alias, name) values ('empty-co', 'Empty Co') on conflict do nothing`;
    const client = await app.client();
    const result = await client.workflow.execute(checkCompanyReadiness, {
      taskQueue: worker.taskQueue,
      workflowId: WORKFLOW_IDS.readinessCheck('empty-co', `${Date.now()}`),
      args: [{ companyAlias: 'empty-co' }],
    });
    expect(result.ready).toBe(false);
    expect(result.problems).toEqual(['no active load map', 'no credits left']);
  });
});
