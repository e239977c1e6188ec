// SFTP access for a source: host key pinned by its SHA256 fingerprint, files listed by glob and read as streams.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import { Client, type ConnectConfig, type SFTPWrapper } from 'ssh2';
import type { SftpSourceConfig } from '../../schemas/ingest-source';
import { SourceError } from './errors';
import { compileGlob } from './glob';
import { readSecret, type SecretEnv } from './secrets';

/** The fingerprint `ssh-keygen -lf` prints: SHA256 of the public key blob, base64 without padding. */
export function sshFingerprint(publicKeyBlob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(publicKeyBlob).digest('base64').replace(/=+$/, '');
}

export interface RemoteFile {
  /** path on the server, directory included */
  path: string;
  name: string;
  size: number;
  /** modification time, seconds since the epoch (SFTP's resolution) */
  mtime: number;
}

export interface SftpSession {
  sftp: SFTPWrapper;
  close(): void;
}

async function credentials(c: SftpSourceConfig, env: SecretEnv): Promise<Partial<ConnectConfig>> {
  const passphrase = c.passphraseEnv
    ? readSecret(c.passphraseEnv, 'the SFTP key passphrase', env)
    : undefined;
  if (c.passwordEnv) return { password: readSecret(c.passwordEnv, 'the SFTP password', env) };
  if (c.privateKeyEnv) {
    // keys pasted into one-line variables often carry "\n" as two characters
    const key = readSecret(c.privateKeyEnv, 'the SFTP private key', env);
    return { privateKey: key.includes('\n') ? key : key.replace(/\\n/g, '\n'), passphrase };
  }
  try {
    return { privateKey: await readFile(c.privateKeyFile!), passphrase };
  } catch (err) {
    throw new SourceError(
      'SourceConfig',
      `cannot read the SFTP private key file ${c.privateKeyFile}: ${(err as Error).message}`,
      true,
    );
  }
}

/**
 * Connects and opens the SFTP subsystem. The host key is checked before any credential is sent; a
 * different key is refused naming both fingerprints, since it means a changed server or an impostor.
 */
export async function openSftp(c: SftpSourceConfig, env: SecretEnv): Promise<SftpSession> {
  const auth = await credentials(c, env);
  const conn = new Client();
  let presented: string | undefined;
  const where = `${c.username}@${c.host}:${c.port}`;
  return new Promise<SftpSession>((resolve, reject) => {
    conn.once('error', (err: Error & { level?: string }) => {
      conn.end();
      if (presented !== undefined && presented !== c.hostKeySha256) {
        reject(
          new SourceError(
            'HostKeyMismatch',
            `SFTP server ${c.host}:${c.port} presented host key ${presented}, but the source expects ${c.hostKeySha256}; nothing was read. ` +
              'If the server really changed its key, confirm the new fingerprint with its owner and update the source.',
            true,
          ),
        );
      } else if (err.level === 'client-authentication') {
        reject(
          new SourceError(
            'SftpAuthentication',
            `SFTP login as ${where} was refused: check the source's credentials`,
            true,
          ),
        );
      } else {
        reject(
          new SourceError('SftpConnection', `cannot reach SFTP server ${where}: ${err.message}`, false, {
            cause: err,
          }),
        );
      }
    });
    conn.once('ready', () => {
      conn.sftp((err, sftp) => {
        if (err) {
          conn.end();
          return reject(
            new SourceError('SftpConnection', `${where} refused the SFTP subsystem: ${err.message}`, false),
          );
        }
        resolve({ sftp, close: () => conn.end() });
      });
    });
    conn.connect({
      host: c.host,
      port: c.port,
      username: c.username,
      readyTimeout: 30_000,
      hostVerifier: (key: Buffer) => {
        presented = sshFingerprint(key);
        return presented === c.hostKeySha256;
      },
      ...auth,
    });
  });
}

/** Entries one listing page holds, as an S3 listing page does: what one activity result carries at most. */
export const SFTP_PAGE_SIZE = 1000;

export interface SftpPage {
  /** the page's files whose names match the glob */
  files: RemoteFile[];
  /** regular files the page looked at, matching the glob or not */
  listed: number;
  /** where the next page starts, when there is one */
  nextToken?: string;
}

/**
 * One page of the regular files in a directory, oldest first (then by name), starting after
 * `continuationToken`. SFTP has no listing cursor of its own, so each page reads the directory and
 * the token names the last file of the page before (its mtime and name): a file added meanwhile
 * lands in this discovery when it sorts after the token, else in the next one.
 */
export async function listRemotePage(
  sftp: SFTPWrapper,
  directory: string,
  glob: string,
  opts: { continuationToken?: string; pageSize?: number } = {},
): Promise<SftpPage> {
  const matches = compileGlob(glob);
  const entries = await new Promise<Parameters<Parameters<SFTPWrapper['readdir']>[1]>[1]>((resolve, reject) =>
    sftp.readdir(directory, (err, list) =>
      err
        ? reject(
            new SourceError(
              'RemoteDirectoryMissing',
              `cannot list the SFTP directory ${directory}: ${err.message}`,
              isNoSuchFile(err),
            ),
          )
        : resolve(list),
    ),
  );
  const after = opts.continuationToken === undefined ? undefined : parseToken(opts.continuationToken);
  const files = entries
    .filter((e) => e.attrs.isFile())
    .map((e) => ({
      path: posix.join(directory, e.filename),
      name: e.filename,
      size: e.attrs.size,
      mtime: e.attrs.mtime,
    }))
    .sort(oldestFirst)
    .filter((f) => after === undefined || oldestFirst(f, after) > 0);
  const page = files.slice(0, opts.pageSize ?? SFTP_PAGE_SIZE);
  const last = page.at(-1);
  return {
    files: page.filter((f) => matches(f.name)),
    listed: page.length,
    nextToken: files.length > page.length && last ? `${last.mtime}/${last.name}` : undefined,
  };
}

function oldestFirst(a: { mtime: number; name: string }, b: { mtime: number; name: string }): number {
  return a.mtime - b.mtime || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** `<mtime>/<name>`: a file name never holds a slash. */
function parseToken(token: string): { mtime: number; name: string } {
  const slash = token.indexOf('/');
  return { mtime: Number(token.slice(0, slash)), name: token.slice(slash + 1) };
}

function isNoSuchFile(err: Error & { code?: unknown }): boolean {
  return err.code === 2; // SSH_FX_NO_SUCH_FILE
}

/** Checks the file is still there (it may have been taken away since the listing) and opens it for reading from `start`. */
export async function openRemoteFile(
  sftp: SFTPWrapper,
  path: string,
  start = 0,
): Promise<{ stream: Readable; size: number; mtime: number }> {
  const attrs = await new Promise<{ size: number; mtime: number }>((resolve, reject) =>
    sftp.stat(path, (err, stats) =>
      err
        ? reject(
            isNoSuchFile(err)
              ? new SourceError('RemoteFileMissing', `the SFTP file ${path} is no longer on the server`, true)
              : new SourceError('SftpRead', `cannot read the SFTP file ${path}: ${err.message}`, false),
          )
        : resolve(stats),
    ),
  );
  return { stream: sftp.createReadStream(path, { start }), size: attrs.size, mtime: attrs.mtime };
}
