// Deletes packet events, audit rows and finished webhook deliveries past retention, a chunk at a time so no lock is held for long.
import type { Sql } from '../db';

const CHUNK = 5_000;

async function inChunks(step: () => Promise<number>, progress: (deleted: number) => void): Promise<number> {
  let total = 0;
  for (;;) {
    const deleted = await step();
    total += deleted;
    progress(total);
    if (deleted < CHUNK) return total;
  }
}

export async function purgeCompanyLogs(
  sql: Sql,
  input: { companyId: number; cutoff: string },
  progress: (deleted: number) => void = () => {},
): Promise<{ packetEvents: number; auditRows: number; webhookDeliveries: number }> {
  const packetEvents = await inChunks(async () => {
    const r = await sql`
      delete from packet_events where id in (
        select id from packet_events
        where company_id = ${input.companyId} and at < ${input.cutoff}::timestamptz limit ${CHUNK})`;
    return r.count;
  }, progress);
  const auditRows = await inChunks(async () => {
    const r = await sql`
      delete from audit_log where id in (
        select id from audit_log
        where company_id = ${input.companyId} and at < ${input.cutoff}::timestamptz limit ${CHUNK})`;
    return r.count;
  }, (n) => progress(packetEvents + n));
  // a delivery still being retried is kept whatever its age; its attempts go with it (on delete cascade)
  const webhookDeliveries = await inChunks(async () => {
    const r = await sql`
      delete from webhook_deliveries where id in (
        select id from webhook_deliveries
        where company_id = ${input.companyId} and created_at < ${input.cutoff}::timestamptz
          and status in ('delivered', 'failed')
        limit ${CHUNK})`;
    return r.count;
  }, (n) => progress(packetEvents + auditRows + n));
  return { packetEvents, auditRows, webhookDeliveries };
}

/** Audit rows that belong to no company (shared configuration). */
export async function purgeSystemAuditLog(
  sql: Sql,
  input: { cutoff: string },
  progress: (deleted: number) => void = () => {},
): Promise<number> {
  return inChunks(async () => {
    const r = await sql`
      delete from audit_log where id in (
        select id from audit_log where company_id is null and at < ${input.cutoff}::timestamptz limit ${CHUNK})`;
    return r.count;
  }, progress);
}
