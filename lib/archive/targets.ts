// Which companies have data past their retention, and the cut-off instant for each.
import type { Sql } from '../db';

export interface ArchiveTarget {
  companyId: number;
  companyAlias: string;
  retentionDays: number;
  /** ISO instant: final messages untouched since before it, and log rows older than it, are archived */
  cutoff: string;
  packetRetentionDays: number;
  /** ISO instant: packets finished before it lose their raw file, rejects report and rejected rows */
  packetCutoff: string;
}

export interface ArchivePlan {
  now: string;
  companies: ArchiveTarget[];
  /** audit rows of no company (regions, prices, global templates) keep the longest retention of any company */
  systemAuditCutoff: string | null;
}

export async function planArchive(
  sql: Sql,
  input: { now: string; companyAlias?: string },
): Promise<ArchivePlan> {
  const rows = await sql<
    {
      id: number;
      alias: string;
      retention_days: number;
      cutoff: Date;
      packet_retention_days: number;
      packet_cutoff: Date;
    }[]
  >`
    select id, alias, retention_days, ${input.now}::timestamptz - make_interval(days => retention_days) as cutoff,
           packet_retention_days,
           ${input.now}::timestamptz - make_interval(days => packet_retention_days) as packet_cutoff
    from companies
    where ${input.companyAlias ?? null}::text is null or alias = ${input.companyAlias ?? null}
    order by id`;
  if (input.companyAlias && rows.length === 0) {
    throw new UnknownCompanyError(input.companyAlias);
  }
  const [system] = await sql<{ cutoff: Date | null }[]>`
    select ${input.now}::timestamptz - make_interval(days => max(retention_days)) as cutoff from companies`;
  return {
    now: new Date(input.now).toISOString(),
    companies: rows.map((r) => ({
      companyId: r.id,
      companyAlias: r.alias,
      retentionDays: r.retention_days,
      cutoff: r.cutoff.toISOString(),
      packetRetentionDays: r.packet_retention_days,
      packetCutoff: r.packet_cutoff.toISOString(),
    })),
    // one company's run leaves the shared rows alone: they are not that company's to purge
    systemAuditCutoff: input.companyAlias ? null : (system?.cutoff?.toISOString() ?? null),
  };
}

export class UnknownCompanyError extends Error {
  constructor(readonly alias: string) {
    super(`no company has the alias "${alias}"`);
    this.name = 'UnknownCompanyError';
  }
}
