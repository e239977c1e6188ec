// Activities of source discovery: list a source's new files, copy each into herald's bucket, register it, start its ingest.
import { posix } from 'node:path';
import { DeleteObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { Context } from '@temporalio/activity';
import { ApplicationFailure, type ActivityCancellationDetails, type RetryPolicy } from '@temporalio/common';
import { DEFAULT_SOURCE_MAX_FILE_BYTES, SOURCE_MAX_FILE_SETTING } from '../schemas/ingest-limits';
import { startPacketIngest } from '../lib/ingest/start-ingest';
import { admitPacket, knownDedupeKeys, type AdmitResult, type StartIngest } from '../lib/sources/admit';
import { SourceError } from '../lib/sources/errors';
import { FORMAT_EXTENSIONS, openApiSource } from '../lib/sources/http-pull';
import { DEDUPE_KEYS, rawObjectKey } from '../lib/sources/raw-keys';
import {
  clientForSource,
  isForeignBucket,
  listS3Page,
  openS3Object,
  relativeKey,
  type ListedObject,
} from '../lib/sources/s3-listing';
import { listRemotePage, openRemoteFile, openSftp, type RemoteFile } from '../lib/sources/sftp';
import {
  abortUpload,
  copyResumable,
  type CopiedObject,
  type CopyLimit,
  type CopyOptions,
  type CopyProgress,
} from '../lib/sources/resumable-copy';
import { DEFAULT_SECRET_ENV_PREFIXES, type SecretEnv } from '../lib/sources/secrets';
import { findSourceByUuid, type StoredSource } from '../lib/sources/store';
import type { ActivityDeps } from './deps';

export type { AdmitResult } from '../lib/sources/admit';

type SourceOf<K extends StoredSource['kind']> = Extract<StoredSource, { kind: K }>;

/** Permanent source problems fail without retries, named by their type; the rest are retried by the policy. */
async function asActivity<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof SourceError) {
      throw ApplicationFailure.create({
        message: err.message,
        type: err.type,
        nonRetryable: err.permanent,
        cause: err.cause as Error | undefined,
      });
    }
    throw err;
  }
}

/** The ingest of an admitted packet runs on the task queue this discovery runs on. */
function startIngestHere(): StartIngest {
  const context = Context.current();
  return async (packet, companyAlias) => {
    const handle = await startPacketIngest(context.client, {
      packet,
      companyAlias,
      taskQueue: context.info.taskQueue,
    });
    return { workflowId: handle.workflowId };
  };
}

/**
 * Whether a failed copy attempt is the copy's last: its failure is not retryable (by itself or by
 * the retry policy's types), the workflow cancelled it, or it was the policy's last attempt. An
 * attempt that times out or dies with its worker is retried and continues the upload instead.
 */
export function endsTheCopy(
  failure: unknown,
  attempt: { attempt: number; retryPolicy?: RetryPolicy },
  cancellation?: ActivityCancellationDetails,
): boolean {
  if (failure instanceof ApplicationFailure && failure.nonRetryable) return true;
  const type = failure instanceof ApplicationFailure ? failure.type : (failure as Error | undefined)?.name;
  const policy = attempt.retryPolicy;
  if (type && policy?.nonRetryableErrorTypes?.includes(type)) return true;
  if (cancellation?.cancelRequested) return true;
  return !!policy?.maximumAttempts && attempt.attempt >= policy.maximumAttempts;
}

/**
 * One attempt of a copying activity. The copy heartbeats its bytes and its open upload's completed
 * parts, so a stuck copy is noticed within the heartbeat timeout and the retry continues the same
 * upload from the last heartbeat's parts. An attempt that fails for good (see `endsTheCopy`) aborts
 * the upload it leaves open, its own or the one an earlier attempt heartbeated: no retry will
 * complete it, and its parts would be stored (and paid for) until a lifecycle rule removes them.
 */
function copyAttempt(s3: S3Client, bucket: string, log: ActivityDeps['log']) {
  const context = Context.current();
  const last = context.info.heartbeatDetails as CopyProgress | undefined;
  let open = last?.checkpoint;
  const options: CopyOptions = {
    previous: last?.checkpoint,
    onProgress: (progress) => {
      open = progress.checkpoint;
      context.heartbeat(progress);
    },
    signal: context.cancellationSignal,
  };
  return {
    options,
    async run<T>(fn: () => Promise<T>): Promise<T> {
      try {
        return await asActivity(fn);
      } catch (failure) {
        if (open && endsTheCopy(failure, context.info, context.cancellationDetails)) {
          await abortUpload(s3, bucket, open);
          log.info(
            { key: open.key, uploadId: open.uploadId, attempt: context.info.attempt },
            'copy failed for good: its multipart upload was aborted',
          );
        }
        throw failure;
      }
    },
  };
}

/** What a copy adds to its packet's metadata: where a resumed copy continued. */
function copyMetadata(copied: CopiedObject): Record<string, unknown> {
  return copied.resumedFrom > 0 ? { resumedFromByte: copied.resumedFrom } : {};
}

const MiB = 1024 * 1024;

export function createSourceActivities({
  sql,
  s3,
  bucket,
  log,
  sourceMaxFileBytes,
  secretEnvPrefixes,
}: ActivityDeps) {
  const secrets: SecretEnv = { env: process.env, prefixes: secretEnvPrefixes ?? DEFAULT_SECRET_ENV_PREFIXES };
  /** The most bytes one file of an SFTP or HTTPS source may have, and where that is set. */
  function fileLimit(source: SourceOf<'sftp'> | SourceOf<'api'>): CopyLimit {
    const name = `${source.companyAlias}/${source.name}`;
    return source.config.maxFileMB !== undefined
      ? { maxBytes: source.config.maxFileMB * MiB, setting: `maxFileMB of source ${name}` }
      : {
          maxBytes: sourceMaxFileBytes ?? DEFAULT_SOURCE_MAX_FILE_BYTES,
          setting: `${SOURCE_MAX_FILE_SETTING} of the worker; set maxFileMB on source ${name} to raise it for this source`,
        };
  }

  async function load<K extends StoredSource['kind']>(sourceUuid: string, kind: K): Promise<SourceOf<K>> {
    const source = await findSourceByUuid(sql, sourceUuid);
    if (!source) throw new SourceError('UnknownSource', `no ingest source has the id ${sourceUuid}`, true);
    if (source.kind !== kind)
      throw new SourceError(
        'SourceConfig',
        `source ${source.companyAlias}/${source.name} is ${source.kind}, not ${kind}`,
        true,
      );
    return source as SourceOf<K>;
  }

  async function admit(
    source: StoredSource,
    dedupeKey: string,
    stored: { key: string; etag: string | null; sizeBytes: number; sha256?: string },
    extra: {
      originalName: string;
      contentType?: string;
      metadata: Record<string, unknown>;
    },
  ): Promise<AdmitResult> {
    const actor = `source:${source.companyAlias}/${source.name}`;
    const result = await admitPacket(
      sql,
      {
        companyAlias: source.companyAlias,
        companyId: source.companyId,
        // the ingest takes the source's load map (or the company's only one) when it starts
        sourceId: source.id,
        dedupeKey,
        objectKey: stored.key,
        originalName: extra.originalName,
        etag: stored.etag,
        sizeBytes: stored.sizeBytes,
        checksum: stored.sha256 ? `sha256:${stored.sha256}` : null,
        contentType: extra.contentType ?? null,
        metadata: { source: source.name, kind: source.kind, ...extra.metadata },
      },
      actor,
      startIngestHere(),
    );
    log.info(
      {
        companyAlias: source.companyAlias,
        source: source.name,
        packetId: result.packetId,
        created: result.created,
      },
      'file admitted',
    );
    return result;
  }

  return {
    async describeSource(input: {
      sourceUuid: string;
    }): Promise<{ kind: StoredSource['kind']; name: string; companyAlias: string; active: boolean }> {
      return asActivity(async () => {
        const source = await findSourceByUuid(sql, input.sourceUuid);
        if (!source)
          throw new SourceError('UnknownSource', `no ingest source has the id ${input.sourceUuid}`, true);
        return {
          kind: source.kind,
          name: source.name,
          companyAlias: source.companyAlias,
          active: source.active,
        };
      });
    },

    /** One listing page, minus the objects already packets: only new keys enter workflow history. */
    async listNewS3Objects(input: {
      sourceUuid: string;
      continuationToken?: string;
    }): Promise<{ objects: ListedObject[]; listed: number; nextToken?: string }> {
      return asActivity(async () => {
        const source = await load(input.sourceUuid, 's3');
        const { client, own } = clientForSource(s3, source.config, secrets);
        try {
          const page = await listS3Page(client, source.config, input.continuationToken);
          const keyOf = (o: ListedObject) => DEDUPE_KEYS.s3(source.uuid, source.config.bucket, o.key, o.etag);
          const known = await knownDedupeKeys(sql, source.companyId, page.objects.map(keyOf));
          return { ...page, objects: page.objects.filter((o) => !known.has(keyOf(o))) };
        } finally {
          if (own) client.destroy();
        }
      });
    },

    /** Copies a foreign object into raw/<company>/<source>/... (ours are used in place), then admits it. */
    async admitS3Object(input: { sourceUuid: string } & ListedObject): Promise<AdmitResult> {
      const copy = copyAttempt(s3, bucket, log);
      return copy.run(async () => {
        const source = await load(input.sourceUuid, 's3');
        const dedupeKey = DEDUPE_KEYS.s3(source.uuid, source.config.bucket, input.key, input.etag);
        const meta = {
          originalName: posix.basename(input.key),
          metadata: { bucket: source.config.bucket, key: input.key },
        };
        if (!isForeignBucket(source.config, bucket)) {
          return admit(source, dedupeKey, { key: input.key, etag: input.etag, sizeBytes: input.size }, meta);
        }
        const { client, own } = clientForSource(s3, source.config, secrets);
        try {
          const key = rawObjectKey(
            source.companyAlias,
            source.name,
            dedupeKey,
            relativeKey(source.config, input.key),
          );
          const copied = await copyResumable(
            s3,
            bucket,
            key,
            async (from) => {
              const offset = from?.version === input.etag ? from.offset : 0;
              const object = await openS3Object(client, source.config.bucket, input.key, input.etag, offset);
              return { ...object, offset, version: input.etag, totalSize: input.size };
            },
            copy.options,
          );
          return admit(source, dedupeKey, copied, {
            ...meta,
            contentType: copied.contentType,
            metadata: { ...meta.metadata, ...copyMetadata(copied) },
          });
        } finally {
          if (own) client.destroy();
        }
      });
    },

    /** One page of the source's SFTP directory, minus the files already packets: only new files enter workflow history. */
    async listNewSftpFiles(input: {
      sourceUuid: string;
      continuationToken?: string;
    }): Promise<{ objects: RemoteFile[]; listed: number; nextToken?: string }> {
      return asActivity(async () => {
        const source = await load(input.sourceUuid, 'sftp');
        const session = await openSftp(source.config, secrets);
        try {
          const page = await listRemotePage(session.sftp, source.config.directory, source.config.glob, {
            continuationToken: input.continuationToken,
          });
          const keyOf = (f: RemoteFile) => DEDUPE_KEYS.sftp(source.uuid, f.path, f.size, f.mtime);
          const known = await knownDedupeKeys(sql, source.companyId, page.files.map(keyOf));
          return {
            objects: page.files.filter((f) => !known.has(keyOf(f))),
            listed: page.listed,
            nextToken: page.nextToken,
          };
        } finally {
          session.close();
        }
      });
    },

    /** Streams one SFTP file into raw/<company>/<source>/..., then admits it. */
    async admitSftpFile(input: { sourceUuid: string } & RemoteFile): Promise<AdmitResult> {
      const copy = copyAttempt(s3, bucket, log);
      return copy.run(async () => {
        const source = await load(input.sourceUuid, 'sftp');
        const dedupeKey = DEDUPE_KEYS.sftp(source.uuid, input.path, input.size, input.mtime);
        const session = await openSftp(source.config, secrets);
        // the listed size and mtime are the version: the dedupe key, and what a resumed copy must still find
        const version = `${input.size}:${input.mtime}`;
        try {
          const key = rawObjectKey(source.companyAlias, source.name, dedupeKey, input.name);
          const copied = await copyResumable(
            s3,
            bucket,
            key,
            async (from) => {
              const offset = from?.version === version ? from.offset : 0;
              const remote = await openRemoteFile(session.sftp, input.path, offset);
              if (remote.size !== input.size || remote.mtime !== input.mtime) {
                remote.stream.destroy();
                throw new SourceError(
                  'RemoteFileChanged',
                  `the SFTP file ${input.path} changed since it was listed; the next discovery takes the new version`,
                  true,
                );
              }
              return { stream: remote.stream, offset, version, totalSize: input.size };
            },
            { ...copy.options, limit: fileLimit(source) },
          );
          return admit(source, dedupeKey, copied, {
            originalName: input.name,
            metadata: {
              host: source.config.host,
              path: input.path,
              mtime: input.mtime,
              ...copyMetadata(copied),
            },
          });
        } finally {
          session.close();
        }
      });
    },

    /** Fetches the API's current answer into S3; an answer with the same content as an earlier packet is dropped again. */
    async pullApiSource(input: { sourceUuid: string }): Promise<AdmitResult> {
      const context = Context.current();
      const copy = copyAttempt(s3, bucket, log);
      return copy.run(async () => {
        const source = await load(input.sourceUuid, 'api');
        // a retry continues under the key its earlier attempt began
        const pulledAt = new Date().toISOString().replace(/[:.]/g, '-');
        const key =
          copy.options.previous?.key ??
          rawObjectKey(
            source.companyAlias,
            source.name,
            `api:${context.info.activityId}:${pulledAt}`,
            `pull-${pulledAt}.${FORMAT_EXTENSIONS[source.config.format]}`,
          );
        const fileName = posix.basename(key);
        const stored = await copyResumable(
          s3,
          bucket,
          key,
          async (from) => {
            const response = await openApiSource(source.config, {
              secrets,
              signal: context.cancellationSignal,
              resume: from && { offset: from.offset, validator: from.version },
            });
            return {
              stream: response.stream,
              offset: response.offset,
              version: response.validator,
              totalSize: response.contentLength,
              contentType: response.contentType,
            };
          },
          { ...copy.options, limit: fileLimit(source) },
        );
        if (stored.sizeBytes === 0) {
          await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
          throw new SourceError(
            'EmptyResponse',
            `${new URL(source.config.url).origin} answered with no content`,
            true,
          );
        }
        const result = await admit(source, DEDUPE_KEYS.api(source.uuid, stored.sha256), stored, {
          originalName: fileName,
          contentType: stored.contentType,
          metadata: { url: source.config.url, format: source.config.format, ...copyMetadata(stored) },
        });
        // the same answer as before: its bytes are already kept under the first packet
        if (!result.created) await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        return result;
      });
    },
  };
}
