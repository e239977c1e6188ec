// Checks that a company can ingest and send (load map, templates, credits) and stores the report in S3.
import { defineQuery, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { CompanyReadiness } from '../activities/readiness';

const { inspectCompany, storeReadinessReport } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 5 },
});

export interface ReadinessResult extends CompanyReadiness {
  reportKey: string;
  ready: boolean;
}

export const readinessProgressQuery = defineQuery<{ step: string }>('progress');

export async function checkCompanyReadiness(input: { companyAlias: string }): Promise<ReadinessResult> {
  let step = 'inspecting the company';
  setHandler(readinessProgressQuery, () => ({ step }));
  const report = await inspectCompany({ companyAlias: input.companyAlias });
  step = 'storing the report';
  const info = workflowInfo();
  const stored = await storeReadinessReport({
    workflowId: info.workflowId,
    report,
    checkedAt: new Date(info.startTime).toISOString(),
  });
  step = 'done';
  return { ...report, reportKey: stored.key, ready: report.problems.length === 0 };
}
