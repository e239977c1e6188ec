// Writes archived messages to S3 as gzip-compressed NDJSON, one object per company, day and batch.
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { ArchivedMessage } from './messages';

/** A batch's name comes from the ids it was asked to move, so a retry overwrites the same objects. */
export function archiveBatchName(messageIds: number[]): string {
  const pad = (n: number) => String(n).padStart(12, '0');
  return `${pad(Math.min(...messageIds))}-${pad(Math.max(...messageIds))}`;
}

export function archiveObjectKey(companyAlias: string, day: string, batchName: string): string {
  return `archive/${companyAlias}/${day}/${batchName}.ndjson.gz`;
}

export interface ExportedObjects {
  keys: string[];
  bytes: number;
}

export async function exportArchivedMessages(
  s3: S3Client,
  bucket: string,
  input: { companyAlias: string; batchName: string; rows: ArchivedMessage[] },
): Promise<ExportedObjects> {
  const days = new Map<string, ArchivedMessage[]>();
  for (const row of input.rows) days.set(row.day, [...(days.get(row.day) ?? []), row]);
  const keys: string[] = [];
  let bytes = 0;
  for (const [day, rows] of [...days].sort(([a], [b]) => a.localeCompare(b))) {
    const ndjson = rows.map((r) => JSON.stringify({ ...r.message, updates: r.updates }) + '\n').join('');
    const body = gzipSync(ndjson);
    const key = archiveObjectKey(input.companyAlias, day, input.batchName);
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: 'application/x-ndjson',
        ContentEncoding: 'gzip',
        Metadata: { messages: String(rows.length) },
      }),
    );
    keys.push(key);
    bytes += body.length;
  }
  return { keys, bytes };
}
