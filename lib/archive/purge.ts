// Deletes packet events, audit rows and finished webhook deliveries past retention, a chunk at a time so no lock is held for long.
import type { PendingQuery, Row } from 'postgres';
import type { Sql } from '../db';

const CHUNK = 5_000;

/**
 * Deletes the rows of `table` that `where` selects, CHUNK at a time (each chunk its own statement, so no
 * lock is held for long); reports the running total after each chunk and returns it.
 */
async function deleteInChunks(
  sql: Sql,
  table: 'packet_events' | 'audit_log' | 'webhook_deliveries',
  where: () => PendingQuery<Row[]>,
  progress: (deleted: number) => void,
): Promise<number> {
  let total = 0;
  for (;;) {
    const { count } = await sql`
      delete from ${sql(table)} where id in (select id from ${sql(table)} where ${where()} limit ${CHUNK})`;
    total += count;
    progress(total);
    if (count < CHUNK) return total;
  }
}

export async function purgeCompanyLogs(
  sql: Sql,
  input: { companyId: number; cutoff: string },
  progress: (deleted: number) => void = () => {},
): Promise<{ packetEvents: number; auditRows: number; webhookDeliveries: number }> {
  const packetEvents = await deleteInChunks(
    sql,
    'packet_events',
    () => sql`company_id = ${input.companyId} and at < ${input.cutoff}::timestamptz`,
    progress,
  );
  const auditRows = await deleteInChunks(
    sql,
    'audit_log',
    () => sql`company_id = ${input.companyId} and at < ${input.cutoff}::timestamptz`,
    (n) => progress(packetEvents + n),
  );
  // a delivery still being retried is kept whatever its age; its attempts go with it (on delete cascade)
  const webhookDeliveries = await deleteInChunks(
    sql,
    'webhook_deliveries',
    () =>
      sql`company_id = ${input.companyId} and created_at < ${input.cutoff}::timestamptz and status in ('delivered', 'failed')`,
    (n) => progress(packetEvents + auditRows + n),
  );
  return { packetEvents, auditRows, webhookDeliveries };
}

/** Audit rows that belong to no company (shared configuration). */
export async function purgeSystemAuditLog(
  sql: Sql,
  input: { cutoff: string },
  progress: (deleted: number) => void = () => {},
): Promise<number> {
  return deleteInChunks(
    sql,
    'audit_log',
    () => sql`company_id is null and at < ${input.cutoff}::timestamptz`,
    progress,
  );
}
