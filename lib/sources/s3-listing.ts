// S3 sources: the client for the source's bucket, one listing page at a time, and opening an object to copy.
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { S3SourceConfig } from '../../schemas/ingest-source';
import { createS3Client } from '../s3';
import { SourceError } from './errors';
import { compileGlob } from './glob';
import { readSecret, type SecretEnv } from './secrets';

export interface ListedObject {
  key: string;
  /** without quotes */
  etag: string;
  size: number;
}

/** A bucket on another server or reached with other credentials is foreign: its files are copied into ours. */
export function isForeignBucket(config: S3SourceConfig, ourBucket: string): boolean {
  return config.bucket !== ourBucket || config.endpoint !== undefined || config.accessKeyIdEnv !== undefined;
}

/** Herald's own client when the source lives on the same S3, else one built from the source's settings. */
export function clientForSource(
  ours: S3Client,
  config: S3SourceConfig,
  env: SecretEnv,
): { client: S3Client; own: boolean } {
  if (config.endpoint === undefined && config.accessKeyIdEnv === undefined && config.region === undefined) {
    return { client: ours, own: false };
  }
  return {
    own: true,
    client: createS3Client({
      endpoint: config.endpoint,
      bucket: config.bucket,
      region: config.region ?? 'us-east-1',
      accessKeyId: config.accessKeyIdEnv
        ? readSecret(config.accessKeyIdEnv, 'the S3 access key id', env)
        : undefined,
      secretAccessKey: config.secretAccessKeyEnv
        ? readSecret(config.secretAccessKeyEnv, 'the S3 secret key', env)
        : undefined,
      forcePathStyle: config.endpoint !== undefined,
    }),
  };
}

function describeS3Error(err: unknown, what: string): SourceError {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  const permanent =
    status === 403 ||
    status === 404 ||
    e.name === 'NoSuchBucket' ||
    e.name === 'NoSuchKey' ||
    e.name === 'AccessDenied';
  const type =
    e.name === 'NoSuchKey' || (status === 404 && what.startsWith('read')) ? 'RemoteFileMissing' : 'S3Source';
  return new SourceError(type, `cannot ${what}: ${e.name ?? 'error'} ${e.message ?? ''}`.trim(), permanent, {
    cause: err,
  });
}

/** One page (up to 1,000 keys) of the source's prefix, only files whose name matches its glob. */
export async function listS3Page(
  client: S3Client,
  config: S3SourceConfig,
  continuationToken?: string,
): Promise<{ objects: ListedObject[]; listed: number; nextToken?: string }> {
  const matches = compileGlob(config.glob);
  try {
    const page = await client.send(
      new ListObjectsV2Command({
        Bucket: config.bucket,
        Prefix: config.prefix || undefined,
        ContinuationToken: continuationToken,
      }),
    );
    const objects = (page.Contents ?? [])
      .filter((o) => o.Key && !o.Key.endsWith('/') && matches(posix.basename(o.Key)))
      .map((o) => ({ key: o.Key!, etag: (o.ETag ?? '').replace(/"/g, ''), size: o.Size ?? 0 }));
    return {
      objects,
      listed: page.KeyCount ?? page.Contents?.length ?? 0,
      nextToken: page.IsTruncated ? page.NextContinuationToken : undefined,
    };
  } catch (err) {
    throw describeS3Error(err, `list s3://${config.bucket}/${config.prefix}`);
  }
}

/**
 * Opens the object from byte `start`, insisting on the ETag that was listed, so a file replaced
 * meanwhile is not copied under the old one's name (nor resumed with another file's bytes).
 */
export async function openS3Object(
  client: S3Client,
  bucket: string,
  key: string,
  etag: string,
  start = 0,
): Promise<{ stream: Readable; contentType?: string }> {
  try {
    const range = start > 0 ? `bytes=${start}-` : undefined;
    const object = await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: `"${etag}"`, Range: range }),
    );
    return { stream: object.Body as Readable, contentType: object.ContentType };
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 412) {
      throw new SourceError(
        'RemoteFileChanged',
        `s3://${bucket}/${key} changed since it was listed; the next discovery takes the new version`,
        true,
      );
    }
    throw describeS3Error(err, `read s3://${bucket}/${key}`);
  }
}

/** The object's path below the source's prefix: the name its copy keeps in herald's bucket. */
export function relativeKey(config: S3SourceConfig, key: string): string {
  return config.prefix && key.startsWith(config.prefix) ? key.slice(config.prefix.length) : key;
}
