// Copies a source file into herald's bucket as a multipart upload that a retried activity continues from its last completed part.
import { createHash, type Hash } from 'node:crypto';
import { posix } from 'node:path';
import { addAbortSignal, type Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { SourceError } from './errors';
import type { StoredObject } from './store-object';

export interface CopiedPart {
  number: number;
  /** without quotes */
  etag: string;
  size: number;
}

/** What a copy heartbeats after each part: enough for the next attempt to continue the same upload. */
export interface CopyCheckpoint {
  key: string;
  uploadId: string;
  /** the source's version the parts were read from; empty when the source cannot be read from an offset */
  version: string;
  parts: CopiedPart[];
}

export interface CopyProgress {
  /** bytes read from the source so far, counting those of the parts an earlier attempt stored */
  bytes: number;
  /** the open upload, from its creation until it is completed (absent before and after) */
  checkpoint?: CopyCheckpoint;
}

export interface OpenedSource {
  stream: Readable;
  /** where the stream starts: the offset asked for, or 0 when the source cannot (or must not) resume there */
  offset: number;
  /** what identifies this content (SFTP size and mtime, an HTTP ETag or Last-Modified); empty: cannot resume */
  version: string;
  /** bytes of the whole file, when the source says: the copy must come out exactly this long */
  totalSize?: number;
  contentType?: string;
}

/** A file that can be read from an offset, as long as it is still the version whose parts were stored. */
export type OpenSource = (from: { offset: number; version: string } | undefined) => Promise<OpenedSource>;

export interface CopyOptions {
  /** the last checkpoint an earlier attempt heartbeated */
  previous?: CopyCheckpoint;
  onProgress?: (progress: CopyProgress) => void;
  signal?: AbortSignal;
  /** S3 wants at least 5 MiB for every part but the last */
  partSize?: number;
  /** the most bytes the file may have: a longer one (announced, or read) fails the copy for good */
  limit?: CopyLimit;
}

export interface CopyLimit {
  maxBytes: number;
  /** where the limit comes from and how to raise it, for the error */
  setting: string;
}

export interface CopiedObject extends StoredObject {
  contentType?: string;
  /** the byte the copy continued from: 0 for a copy done in one go */
  resumedFrom: number;
}

export const COPY_PART_SIZE = 8 * 1024 * 1024;

const sumSizes = (parts: CopiedPart[]) => parts.reduce((n, p) => n + p.size, 0);
const unquote = (etag: string | undefined) => (etag ?? '').replace(/"/g, '');

/**
 * Copies the file to `bucket/key`. An earlier attempt's upload is continued when its checkpoint is
 * for this key, the source still has that version and can be read from the end of its last part;
 * otherwise that upload is aborted and the copy starts over. The stored object's size is checked
 * against the bytes read (and the size the source announced) before it is returned, so a copy
 * never comes out with bytes missing or twice.
 */
export async function copyResumable(
  s3: S3Client,
  bucket: string,
  key: string,
  open: OpenSource,
  opts: CopyOptions = {},
): Promise<CopiedObject> {
  const previous = opts.previous?.key === key ? opts.previous : undefined;
  if (opts.previous && !previous) await abortUpload(s3, bucket, opts.previous);
  let kept =
    previous && previous.version !== '' && previous.parts.length > 0
      ? await partsStillThere(s3, bucket, previous)
      : undefined;
  const offset = kept ? sumSizes(kept.parts) : 0;
  let source = await open(kept ? { offset, version: kept.version } : undefined);
  if (kept && (source.offset !== offset || source.version !== kept.version)) {
    // the file changed or cannot be read from there: its stored parts are of no use, and an answer
    // that starts at the first byte (an HTTP server sending all of the new version) is used as it is
    kept = undefined;
    if (source.offset !== 0) {
      source.stream.destroy();
      source = await open(undefined);
    }
  }
  if (previous && !kept) await abortUpload(s3, bucket, previous);
  if (source.offset !== (kept ? offset : 0)) {
    source.stream.destroy();
    throw new Error(`the source opened at byte ${source.offset}, not ${kept ? offset : 0}`);
  }
  try {
    return await copyFrom(s3, bucket, key, source, kept, opts);
  } catch (err) {
    if (!kept || !isMissingUpload(err)) throw err;
    // the upload went away since the checkpoint (completed by an attempt that died before it
    // admitted the file, or expired): start over rather than fail the file
    return copyFrom(s3, bucket, key, await open(undefined), undefined, opts);
  }
}

function isMissingUpload(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchUpload' || e.$metadata?.httpStatusCode === 404;
}

/** The checkpoint's parts as S3 still holds them; undefined when the upload is gone or differs. */
async function partsStillThere(
  s3: S3Client,
  bucket: string,
  checkpoint: CopyCheckpoint,
): Promise<CopyCheckpoint | undefined> {
  try {
    const listed = await s3.send(
      new ListPartsCommand({ Bucket: bucket, Key: checkpoint.key, UploadId: checkpoint.uploadId }),
    );
    const held = new Map((listed.Parts ?? []).map((p) => [p.PartNumber, unquote(p.ETag)]));
    return checkpoint.parts.every((p) => held.get(p.number) === p.etag) ? checkpoint : undefined;
  } catch (err) {
    const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
    // stores without ListParts are trusted with the checkpoint; a missing upload
    // still fails its first part or the completion, and the retry after that starts over
    if (
      e.name === 'NotImplemented' ||
      e.name === 'MethodNotAllowed' ||
      [405, 501].includes(e.$metadata?.httpStatusCode ?? 0)
    )
      return checkpoint;
    if (isMissingUpload(err)) return undefined;
    throw err;
  }
}

/**
 * Aborts the checkpoint's upload, dropping its stored parts. Best effort: an upload that cannot be
 * aborted now (or is gone already) is left to the bucket's lifecycle rule.
 */
export async function abortUpload(s3: S3Client, bucket: string, checkpoint: CopyCheckpoint): Promise<void> {
  await s3
    .send(
      new AbortMultipartUploadCommand({ Bucket: bucket, Key: checkpoint.key, UploadId: checkpoint.uploadId }),
    )
    .catch(() => {});
}

async function copyFrom(
  s3: S3Client,
  bucket: string,
  key: string,
  source: OpenedSource,
  kept: CopyCheckpoint | undefined,
  opts: CopyOptions,
): Promise<CopiedObject> {
  const limit = opts.limit;
  if (limit && source.totalSize !== undefined && source.totalSize > limit.maxBytes) {
    // an SFTP stream still opening fails its requests when its session closes: nobody reads it now
    source.stream.on('error', () => {});
    source.stream.destroy();
    throw tooLarge(key, limit, source.totalSize);
  }
  // S3 takes at most 10,000 parts: a file over ~70 GiB gets larger parts when its size is known
  const partSize = opts.partSize ?? Math.max(COPY_PART_SIZE, Math.ceil((source.totalSize ?? 0) / 9_000));
  const parts: CopiedPart[] = kept ? [...kept.parts] : [];
  let uploadId = kept?.uploadId;
  // a copy done in one go is hashed on the way; a resumed one is hashed from the stored object
  const hash: Hash | undefined = source.offset === 0 ? createHash('sha256') : undefined;
  let bytes = source.offset;
  let pending: Buffer[] = [];
  let pendingSize = 0;
  let uploading: Promise<void> = Promise.resolve();
  let failure: unknown;
  let reported = 0;

  const report = (checkpointed: boolean) => {
    if (!opts.onProgress || (!checkpointed && Date.now() - reported < 250)) return;
    reported = Date.now();
    opts.onProgress({
      bytes,
      checkpoint: uploadId ? { key, uploadId, version: source.version, parts: [...parts] } : undefined,
    });
  };

  const uploadPart = async (body: Buffer): Promise<void> => {
    if (uploadId === undefined) {
      uploadId = (
        await s3.send(
          new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: source.contentType }),
        )
      ).UploadId!;
      // the upload is known before its first part: a copy that fails for good aborts it
      report(true);
    }
    const number = parts.length + 1;
    const answer = await s3.send(
      new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber: number, Body: body }),
    );
    const etag = unquote(answer.ETag);
    // a plain part ETag is the MD5 of its bytes: a mismatch means the part did not arrive intact
    if (/^[0-9a-f]{32}$/.test(etag) && etag !== createHash('md5').update(body).digest('hex')) {
      throw new Error(
        `part ${number} of ${key} was stored with ETag ${etag}, which is not the MD5 of the bytes sent`,
      );
    }
    parts.push({ number, etag, size: body.length });
    report(true);
  };

  const stream = opts.signal ? addAbortSignal(opts.signal, source.stream) : source.stream;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (failure) throw failure;
      hash?.update(chunk);
      bytes += chunk.length;
      // an endless answer stops here, not after hours of parts
      if (limit && bytes > limit.maxBytes) throw tooLarge(key, limit, undefined);
      pending.push(chunk);
      pendingSize += chunk.length;
      report(false);
      while (pendingSize >= partSize) {
        const joined = Buffer.concat(pending);
        pending = joined.length > partSize ? [joined.subarray(partSize)] : [];
        pendingSize = joined.length - partSize;
        // one part travels to S3 while the next one fills
        await uploading;
        if (failure) throw failure;
        uploading = uploadPart(joined.subarray(0, partSize)).catch((err: unknown) => {
          failure = err;
        });
      }
    }
    await uploading;
    if (failure) throw failure;
  } catch (err) {
    source.stream.destroy();
    await uploading;
    throw err;
  }

  const rest = Buffer.concat(pending);
  let etag: string | null;
  if (uploadId === undefined) {
    // smaller than a part: one plain PUT
    etag =
      unquote(
        (
          await s3.send(
            new PutObjectCommand({ Bucket: bucket, Key: key, Body: rest, ContentType: source.contentType }),
          )
        ).ETag,
      ) || null;
  } else {
    if (rest.length > 0) await uploadPart(rest);
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((p) => ({ PartNumber: p.number, ETag: `"${p.etag}"` })) },
      }),
    );
    etag = unquote(done.ETag) || null;
  }
  opts.onProgress?.({ bytes });

  const stored = await verifiedSize(s3, bucket, key, bytes, source.totalSize);
  const sha256 = hash ? hash.digest('hex') : await hashStored(s3, bucket, key, stored);
  return {
    key,
    etag,
    sizeBytes: stored,
    sha256,
    contentType: source.contentType,
    resumedFrom: source.offset,
  };
}

function tooLarge(key: string, limit: CopyLimit, announced: number | undefined): SourceError {
  const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)} MB`;
  return new SourceError(
    'FileTooLarge',
    `${posix.basename(key)} is ${announced === undefined ? 'larger than' : mb(announced) + ', over'} ${mb(limit.maxBytes)}, the most one file of this source may have (${limit.setting}); nothing was kept`,
    true,
  );
}

/** The stored object's length, which must be the bytes read and the size the source announced; else it is removed. */
async function verifiedSize(
  s3: S3Client,
  bucket: string,
  key: string,
  read: number,
  announced: number | undefined,
): Promise<number> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
  const stored = head.ContentLength ?? -1;
  if (stored === read && (announced === undefined || announced === read)) return stored;
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  throw new SourceError(
    'CopyIncomplete',
    `the copy of ${key} came out ${stored} bytes long after reading ${read}` +
      (announced === undefined ? '' : ` of the ${announced} the source announced`) +
      '; it was removed and will be copied again',
    false,
  );
}

async function hashStored(s3: S3Client, bucket: string, key: string, size: number): Promise<string> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash('sha256');
  let read = 0;
  for await (const chunk of object.Body as Readable) {
    hash.update(chunk as Buffer);
    read += (chunk as Buffer).length;
  }
  if (read !== size) throw new Error(`reading back ${key} gave ${read} bytes, not ${size}`);
  return hash.digest('hex');
}
