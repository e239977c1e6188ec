// Streams bytes of any origin into herald's bucket (multipart), counting and hashing them on the way.
import { createHash } from 'node:crypto';
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';

export interface StoredObject {
  key: string;
  etag: string | null;
  sizeBytes: number;
  /** sha256 of the content, lower-case hex */
  sha256: string;
}

export interface StoreOptions {
  contentType?: string;
  /** called as bytes pass, at most every few hundred milliseconds: heartbeats and progress bars */
  onProgress?: (bytes: number) => void;
  signal?: AbortSignal;
  metadata?: Record<string, string>;
}

const PART_SIZE = 8 * 1024 * 1024;

/**
 * Uploads `body` to `bucket/key`. Memory stays at a few parts whatever the size (lib-storage buffers
 * queueSize × partSize); a failure aborts the multipart upload so no half object is left behind.
 */
export async function storeObject(
  s3: S3Client,
  bucket: string,
  key: string,
  body: Readable | AsyncIterable<Uint8Array>,
  opts: StoreOptions = {},
): Promise<StoredObject> {
  const hash = createHash('sha256');
  let sizeBytes = 0;
  let reported = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      sizeBytes += chunk.length;
      if (opts.onProgress && Date.now() - reported > 250) {
        reported = Date.now();
        opts.onProgress(sizeBytes);
      }
      done(null, chunk);
    },
  });
  const out = new PassThrough();
  const upload = new Upload({
    client: s3,
    params: { Bucket: bucket, Key: key, Body: out, ContentType: opts.contentType, Metadata: opts.metadata },
    queueSize: 2,
    partSize: PART_SIZE,
    leavePartsOnError: false,
  });
  const onAbort = () => void upload.abort().catch(() => {});
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    // the read side and the upload run together, so backpressure flows from S3 to the source
    const [, result] = await Promise.all([pipeline(body, tap, out, { signal: opts.signal }), upload.done()]);
    opts.onProgress?.(sizeBytes);
    return { key, etag: result.ETag?.replace(/"/g, '') ?? null, sizeBytes, sha256: hash.digest('hex') };
  } catch (err) {
    await upload.abort().catch(() => {});
    out.destroy();
    throw err;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}
