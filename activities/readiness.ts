// Activities that check a company is ready to ingest and send, and store the report in S3.
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { ApplicationFailure } from '@temporalio/common';
import { activityLog } from './activity-log';
import type { ActivityDeps } from './deps';

export interface CompanyReadiness {
  companyAlias: string;
  companyName: string;
  active: boolean;
  timezone: string;
  activeLoadMaps: string[];
  templatesByChannel: Record<'sms' | 'voice' | 'email', string[]>;
  creditBalance: number;
  regions: number;
  problems: string[];
}

export interface StoredReport {
  key: string;
  bytes: number;
}

export function createReadinessActivities({ sql, s3, bucket, log }: ActivityDeps) {
  return {
    async inspectCompany(input: { companyAlias: string }): Promise<CompanyReadiness> {
      const [company] = await sql<{ id: number; name: string; active: boolean; timezone: string }[]>`
        select id, name, active, timezone from companies where alias = ${input.companyAlias}`;
      if (!company) {
        throw ApplicationFailure.nonRetryable(
          `no company has the alias "${input.companyAlias}"`,
          'UnknownCompany',
        );
      }
      const maps = await sql<{ name: string; version: number }[]>`
        select name, version from company_load_maps
        where company_id = ${company.id} and active order by name`;
      const templates = await sql<{ channel: 'sms' | 'voice' | 'email'; name: string }[]>`
        select distinct channel, name from message_templates
        where active and (scope = 'global' or company_id = ${company.id}) order by channel, name`;
      const [balance] = await sql<{ balance: string }[]>`
        select balance from company_credit_balances where company_id = ${company.id}`;
      const [regions] = await sql<{ n: number }[]>`select count(*)::int as n from regions where active`;

      const templatesByChannel = { sms: [] as string[], voice: [] as string[], email: [] as string[] };
      for (const t of templates) templatesByChannel[t.channel].push(t.name);
      const creditBalance = Number(balance?.balance ?? 0);
      const problems: string[] = [];
      if (!company.active) problems.push('the company is inactive');
      if (maps.length === 0) problems.push('no active load map');
      for (const [channel, names] of Object.entries(templatesByChannel)) {
        if (names.length === 0) problems.push(`no ${channel} template`);
      }
      if (creditBalance <= 0) problems.push('no credits left');
      activityLog(log, { companyId: company.id }).info({ problems: problems.length }, 'inspected company');
      return {
        companyAlias: input.companyAlias,
        companyName: company.name,
        active: company.active,
        timezone: company.timezone,
        activeLoadMaps: maps.map((m) => `${m.name}@v${m.version}`),
        templatesByChannel,
        creditBalance,
        regions: regions?.n ?? 0,
        problems,
      };
    },

    /** Writes the report and reads it back, so the check proves the bucket round trip. */
    async storeReadinessReport(input: {
      workflowId: string;
      report: CompanyReadiness;
      checkedAt: string;
    }): Promise<StoredReport> {
      const key = `reports/readiness/${input.report.companyAlias}/${input.checkedAt.replace(/[:.]/g, '-')}.json`;
      const body = JSON.stringify(
        { workflowId: input.workflowId, checkedAt: input.checkedAt, ...input.report },
        null,
        2,
      );
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }),
      );
      const back = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const text = await back.Body?.transformToString();
      if (text !== body) throw new Error(`S3 returned different content for ${key}`);
      return { key, bytes: Buffer.byteLength(body) };
    },
  };
}
