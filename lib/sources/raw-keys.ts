// Where a packet's original bytes live in herald's bucket, and the dedupe keys that make one file one packet.
import { createHash } from 'node:crypto';

/** Keeps a key readable and safe: path separators become "/", anything odd becomes "_". */
function safeSegment(text: string): string {
  return text.replace(/[^A-Za-z0-9._@=+-]/g, '_').replace(/^\.+/, '_') || '_';
}

function safePath(relative: string): string {
  return (
    relative
      .split('/')
      .filter((p) => p !== '' && p !== '.' && p !== '..')
      .map(safeSegment)
      .join('/') || '_'
  );
}

/**
 * `raw/<company>/<source>/<version>/<file path>`: the version (a short hash of the dedupe key) keeps
 * a file's earlier versions when it is replaced under the same name, and makes a retried copy
 * overwrite itself instead of adding a second object.
 */
export function rawObjectKey(
  companyAlias: string,
  sourceName: string,
  dedupeKey: string,
  relativePath: string,
): string {
  const version = createHash('sha256').update(dedupeKey).digest('hex').slice(0, 16);
  return `raw/${safeSegment(companyAlias)}/${safeSegment(sourceName)}/${version}/${safePath(relativePath)}`;
}

export const DEDUPE_KEYS = {
  /** the same object (key + ETag) from the same source, however often listed */
  s3: (sourceUuid: string, bucket: string, key: string, etag: string) =>
    `s3:${sourceUuid}:${bucket}/${key}@${etag}`,
  /** SFTP has no ETag: the path with its size and modification time stands in for one */
  sftp: (sourceUuid: string, path: string, size: number, mtime: number) =>
    `sftp:${sourceUuid}:${path}:${size}:${mtime}`,
  /** an API answer is identified by its content */
  api: (sourceUuid: string, sha256: string) => `api:${sourceUuid}:sha256:${sha256}`,
  /**
   * an uploaded file is identified by its content, whatever its name; an empty export uploaded again
   * is a new file (the same bytes on another day), numbered after the first
   */
  upload: (sha256: string, repeat = 0) => `upload:sha256:${sha256}${repeat ? `#${repeat}` : ''}`,
} as const;
