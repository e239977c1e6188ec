// A local file handed in by an operator (`herald upload`): stored under the company's prefix, made a packet, ingest started.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Sql } from '../db';
import type { PacketRow } from '../packets';
import { admitPacket, loadMapIdOf, type AdmitResult, type StartIngest } from './admit';
import { SourceError } from './errors';
import { DEDUPE_KEYS, rawObjectKey } from './raw-keys';
import { storeObject } from './store-object';

const FINISHED = new Set<PacketRow['stage']>(['done', 'failed', 'cancelled']);

/** The folder uploads of a company go to, beside its sources' folders: raw/<company>/upload/... */
export const UPLOAD_SOURCE_NAME = 'upload';

const CONTENT_TYPES: Record<string, string> = {
  '.csv': 'text/csv',
  '.txt': 'text/plain',
  '.tsv': 'text/tab-separated-values',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.json': 'application/json',
  '.ndjson': 'application/x-ndjson',
  '.jsonl': 'application/x-ndjson',
};

export interface UploadRequest {
  file: string;
  companyAlias: string;
  /** the load map: name (its active version) or name@version */
  loadMap?: string;
  actor: string;
  /** bytes sent so far and the file's size, for a progress bar */
  onProgress?: (sent: number, total: number) => void;
}

export type UploadOutcome = AdmitResult & {
  objectKey: string;
  sizeBytes: number;
  sha256: string;
  alreadyReceived: boolean;
};

async function sha256Of(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/**
 * The file's content identifies it: the same file uploaded twice is one packet, and the second
 * upload sends no bytes (the hash is taken locally first, which reads the file twice but never
 * uploads it twice).
 */
export async function uploadFile(
  deps: { sql: Sql; s3: S3Client; bucket: string; startIngest: StartIngest },
  request: UploadRequest,
): Promise<UploadOutcome> {
  const { sql } = deps;
  const info = await stat(request.file).catch(() => undefined);
  if (!info?.isFile()) throw new SourceError('NoSuchFile', `${request.file} is not a readable file`, true);
  const [company] = await sql<
    { id: number; active: boolean }[]
  >`select id, active from companies where alias = ${request.companyAlias}`;
  if (!company)
    throw new SourceError('UnknownCompany', `no company has the alias "${request.companyAlias}"`, true);
  const loadMapId = request.loadMap
    ? await loadMapIdOf(sql, company.id, request.companyAlias, request.loadMap)
    : null;

  const sha256 = await sha256Of(request.file);
  // the newest packet of these bytes: a repeat of an empty file is numbered after the first
  const [existing] = await sql<(PacketRow & { metadata: { empty?: boolean } })[]>`
    select * from data_packets
    where company_id = ${company.id}
      and (dedupe_key = ${DEDUPE_KEYS.upload(sha256)} or dedupe_key like ${`${DEDUPE_KEYS.upload(sha256)}#%`})
    order by id desc limit 1`;
  // An empty file holds no rows to tell two days' exports apart: one that was read and found empty
  // does not make the next empty one "already received" (it says "nothing today" again).
  const emptyBefore = existing?.metadata.empty === true && FINISHED.has(existing.stage);
  const dedupeKey = emptyBefore
    ? DEDUPE_KEYS.upload(sha256, Number(/#(\d+)$/.exec(existing.dedupe_key)?.[1] ?? 0) + 1)
    : DEDUPE_KEYS.upload(sha256);
  if (existing && !emptyBefore) {
    return {
      packetUuid: existing.uuid,
      packetId: existing.id,
      created: false,
      stage: existing.stage,
      ingestWorkflowId: existing.workflow_id,
      objectKey: existing.object_key,
      sizeBytes: info.size,
      sha256,
      alreadyReceived: true,
    };
  }
  const name = path.basename(request.file);
  const key = rawObjectKey(request.companyAlias, UPLOAD_SOURCE_NAME, dedupeKey, name);
  request.onProgress?.(0, info.size);
  const stored = await storeObject(deps.s3, deps.bucket, key, createReadStream(request.file), {
    contentType: CONTENT_TYPES[path.extname(name).toLowerCase()] ?? 'application/octet-stream',
    onProgress: (sent) => request.onProgress?.(sent, info.size),
  });
  if (stored.sha256 !== sha256) {
    throw new SourceError(
      'FileChanged',
      `${request.file} changed while it was being uploaded; upload it again once it is complete`,
      false,
    );
  }
  const admitted = await admitPacket(
    sql,
    {
      companyAlias: request.companyAlias,
      companyId: company.id,
      loadMapId,
      dedupeKey,
      objectKey: key,
      originalName: name,
      etag: stored.etag,
      sizeBytes: stored.sizeBytes,
      checksum: `sha256:${sha256}`,
      contentType: CONTENT_TYPES[path.extname(name).toLowerCase()] ?? null,
      metadata: { kind: 'upload', uploadedBy: request.actor },
    },
    request.actor,
    deps.startIngest,
  );
  return {
    ...admitted,
    objectKey: key,
    sizeBytes: stored.sizeBytes,
    sha256,
    alreadyReceived: !admitted.created,
  };
}
