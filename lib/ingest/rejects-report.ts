// Writes a packet's rejected rows as a CSV report to S3 (row, column, value, reason) and links it from the packet.
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Sql } from '../db';

// Quotes every value and neutralises leading =, +, - and @, so opening the report in a spreadsheet
// never runs a formula that came from someone's file.
function csvValue(value: string | number | null): string {
  if (value === null) return '';
  const text = String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function rejectsReportKey(companyAlias: string, packetUuid: string): string {
  return `rejects/${companyAlias}/${packetUuid}.csv`;
}

/** Streams the rejects from Postgres into the report; returns its key, or null when nothing was rejected. */
export async function writeRejectsReport(
  sql: Sql,
  s3: S3Client,
  bucket: string,
  packet: { id: number; uuid: string; companyAlias: string },
): Promise<string | null> {
  const [any] = await sql`select 1 from packet_rejects where packet_id = ${packet.id} limit 1`;
  if (!any) {
    await sql`update data_packets set rejects_key = null where id = ${packet.id}`;
    return null;
  }
  const key = rejectsReportKey(packet.companyAlias, packet.uuid);
  async function* lines(): AsyncGenerator<string> {
    yield 'row,column,value,reason\r\n';
    const cursor = sql<
      { row_number: number; column_name: string | null; raw_value: string | null; reason: string }[]
    >`
      select row_number, column_name, raw_value, reason from packet_rejects
      where packet_id = ${packet.id} order by row_number, id`.cursor(2000);
    for await (const rows of cursor) {
      yield rows
        .map((r) => [r.row_number, r.column_name, r.raw_value, r.reason].map(csvValue).join(',') + '\r\n')
        .join('');
    }
  }
  await new Upload({
    client: s3,
    params: {
      Bucket: bucket,
      Key: key,
      Body: Readable.from(lines()),
      ContentType: 'text/csv; charset=utf-8',
    },
    queueSize: 2,
    partSize: 8 * 1024 * 1024,
    leavePartsOnError: false,
  }).done();
  await sql`update data_packets set rejects_key = ${key} where id = ${packet.id}`;
  return key;
}
