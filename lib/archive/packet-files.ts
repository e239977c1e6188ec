// Deletes what a finished packet keeps of its file past the company's packet retention: raw file, rejects report, rejected rows.
import { DeleteObjectsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Sql } from '../db';

const PACKETS_PER_BATCH = 200;
const REJECTS_PER_DELETE = 5_000;

export interface PurgedPacketFiles {
  packets: number;
  objects: number;
  rejectedRows: number;
}

/**
 * For each finished packet (done, failed or cancelled) of the company that finished before `cutoff`
 * and still has its files: its objects in S3 are deleted first, then its rejected rows, then it is
 * marked `files_purged_at`; a crash between them leaves it unmarked, and the next run deletes again
 * (deleting what is gone already is no error). Its counts and stage log are kept.
 */
export async function purgePacketFiles(
  deps: { sql: Sql; s3: S3Client; bucket: string },
  input: { companyId: number; cutoff: string },
  progress: (purged: PurgedPacketFiles) => void = () => {},
): Promise<PurgedPacketFiles> {
  const { sql, s3, bucket } = deps;
  const purged: PurgedPacketFiles = { packets: 0, objects: 0, rejectedRows: 0 };
  for (;;) {
    // created_at is never after finished_at: it lets the (company_id, created_at) index find them
    const packets = await sql<{ id: number; object_key: string; rejects_key: string | null }[]>`
      select id, object_key, rejects_key from data_packets
      where company_id = ${input.companyId} and created_at < ${input.cutoff}::timestamptz
        and finished_at < ${input.cutoff}::timestamptz and stage in ('done', 'failed', 'cancelled')
        and files_purged_at is null
      order by id limit ${PACKETS_PER_BATCH}`;
    if (packets.length === 0) return purged;
    const ids = packets.map((p) => p.id);
    // an object another packet still holds (an S3 object used in place, replaced under the same key)
    // stays until that packet's own retention ends
    const shared = await sql<{ object_key: string }[]>`
      select distinct o.object_key from data_packets o
      where o.object_key in ${sql(packets.map((p) => p.object_key))} and o.files_purged_at is null
        and not (o.id = any(${ids}::bigint[]))`;
    const held = new Set(shared.map((r) => r.object_key));
    const keys = [
      ...new Set([
        ...packets.map((p) => p.object_key).filter((key) => !held.has(key)),
        ...packets.flatMap((p) => (p.rejects_key ? [p.rejects_key] : [])),
      ]),
    ];
    if (keys.length > 0) {
      const answer = await s3.send(
        new DeleteObjectsCommand({
          Bucket: bucket,
          Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failed = (answer.Errors ?? []).filter((e) => e.Code !== 'NoSuchKey');
      if (failed.length > 0)
        throw new Error(
          `S3 refused to delete ${failed.length} packet files (${failed[0]!.Code}); the next run tries again`,
        );
      purged.objects += keys.length;
    }
    for (;;) {
      const { count } = await sql`
        delete from packet_rejects where id in (
          select id from packet_rejects where packet_id = any(${ids}::bigint[]) limit ${REJECTS_PER_DELETE})`;
      purged.rejectedRows += count;
      progress({ ...purged });
      if (count < REJECTS_PER_DELETE) break;
    }
    await sql`
      update data_packets set files_purged_at = now(), rejects_key = null
      where id = any(${ids}::bigint[]) and company_id = ${input.companyId}`;
    purged.packets += packets.length;
    progress({ ...purged });
  }
}
