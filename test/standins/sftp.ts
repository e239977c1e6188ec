// An in-process SFTP server on ssh2's Server: serves a local directory read-only, with password and key logins.
import { createHash, timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync, type Stats } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import ssh2, { type Attributes, type Connection, type ParsedKey, type SFTPWrapper } from 'ssh2';
import { closedGate, type Gate } from './gate';

const { Server, utils } = ssh2;
const STATUS = utils.sftp.STATUS_CODE;

export interface SftpStandinOptions {
  /** the directory served as the server's root */
  root: string;
  username: string;
  password?: string;
  /** an OpenSSH public key line of the user's key */
  authorizedKey?: string;
  /** names listed in directories but gone when opened, as if taken away right after the listing */
  vanishing?: string[];
}

export interface SftpStandin {
  host: string;
  port: number;
  /** the host key's fingerprint as `ssh-keygen -lf` prints it */
  fingerprint: string;
  /** what clients did: logins accepted, the files they opened, and the byte each open file was first read at */
  log: { logins: string[]; opened: string[]; reads: { path: string; firstOffset: number }[] };
  /** reads of the named file from byte `from` on wait, unanswered, until `release()` (several files may be held) */
  hold(name: string, from: number): void;
  release(): void;
  close(): Promise<void>;
}

interface Hold extends Gate {
  name: string;
  from: number;
}

function parsed(key: string): ParsedKey {
  const k = utils.parseKey(key);
  if (k instanceof Error) throw k;
  return Array.isArray(k) ? (k[0] as ParsedKey) : k;
}

/**
 * An ed25519 key pair ssh2 can read back. ssh2's generator drops the leading zero byte of about one
 * key in 250 (measured: 13 of 3,000), and its own parser then calls that key malformed; such a pair
 * is drawn again.
 */
export function ed25519KeyPair(): { private: string; public: string } {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.public) instanceof Error) && !(utils.parseKey(pair.private) instanceof Error)) {
      return pair;
    }
  }
}

/** The public key blob of a fresh host key: what a server other than the stand-in would present. */
export function otherHostKeyBlob(): Buffer {
  return parsed(ed25519KeyPair().public).getPublicSSH();
}

function attrsOf(st: Stats): Attributes {
  return {
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    atime: Math.floor(st.atimeMs / 1000),
    mtime: Math.floor(st.mtimeMs / 1000),
  };
}

function serveSftp(
  sftp: SFTPWrapper,
  opts: SftpStandinOptions,
  log: SftpStandin['log'],
  holding: (name: string) => Hold | undefined,
): void {
  const handles = new Map<
    number,
    { fd?: number; path?: string; read?: boolean; entries?: string[]; dir?: string }
  >();
  let next = 0;
  const vanishing = new Set(opts.vanishing ?? []);
  const resolve = (p: string) => path.join(opts.root, path.posix.normalize('/' + p));
  const gone = (p: string) => vanishing.has(path.posix.basename(p));
  const handle = (id: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32BE(id);
    return b;
  };
  const lookup = (b: Buffer) => (b.length === 4 ? handles.get(b.readUInt32BE(0)) : undefined);

  sftp.on('REALPATH', (id, p) =>
    sftp.name(id, [{ filename: path.posix.normalize('/' + p), longname: '', attrs: {} as Attributes }]),
  );
  const stat = (id: number, p: string) => {
    if (gone(p)) return sftp.status(id, STATUS.NO_SUCH_FILE);
    try {
      sftp.attrs(id, attrsOf(statSync(resolve(p))));
    } catch {
      sftp.status(id, STATUS.NO_SUCH_FILE);
    }
  };
  sftp.on('STAT', stat);
  sftp.on('LSTAT', stat);
  sftp.on('OPENDIR', (id, p) => {
    try {
      const entries = readdirSync(resolve(p));
      handles.set(++next, { entries, dir: p });
      sftp.handle(id, handle(next));
    } catch {
      sftp.status(id, STATUS.NO_SUCH_FILE);
    }
  });
  sftp.on('READDIR', (id, h) => {
    const open = lookup(h);
    if (!open?.entries) return sftp.status(id, STATUS.FAILURE);
    if (open.entries.length === 0) return sftp.status(id, STATUS.EOF);
    // real servers answer a long directory in several READDIR replies; so does this one
    const names = open.entries.splice(0, 100).map((filename) => {
      const st = statSync(path.join(resolve(open.dir!), filename));
      return { filename, longname: filename, attrs: attrsOf(st) };
    });
    sftp.name(id, names);
  });
  sftp.on('OPEN', (id, p, flags) => {
    if (flags !== utils.sftp.OPEN_MODE.READ) return sftp.status(id, STATUS.PERMISSION_DENIED);
    if (gone(p)) return sftp.status(id, STATUS.NO_SUCH_FILE);
    try {
      const fd = openSync(resolve(p), 'r');
      handles.set(++next, { fd, path: p });
      log.opened.push(p);
      sftp.handle(id, handle(next));
    } catch {
      sftp.status(id, STATUS.NO_SUCH_FILE);
    }
  });
  sftp.on('FSTAT', (id, h) => {
    const open = lookup(h);
    if (open?.fd === undefined) return sftp.status(id, STATUS.FAILURE);
    sftp.attrs(id, attrsOf(fstatSync(open.fd)));
  });
  sftp.on('READ', async (id, h, offset, length) => {
    const open = lookup(h);
    if (open?.fd === undefined) return sftp.status(id, STATUS.FAILURE);
    if (!open.read) {
      open.read = true;
      log.reads.push({ path: open.path!, firstOffset: offset });
    }
    const hold = holding(path.posix.basename(open.path!));
    if (hold && offset + length > hold.from) {
      await hold.opened;
      if (!handles.has(h.readUInt32BE(0))) return;
    }
    const buffer = Buffer.alloc(length);
    const read = readSync(open.fd, buffer, 0, length, offset);
    try {
      if (read === 0) sftp.status(id, STATUS.EOF);
      else sftp.data(id, buffer.subarray(0, read));
    } catch {
      // the client went away while its read was held (a killed worker): nobody to answer
    }
  });
  sftp.on('CLOSE', (id, h) => {
    const open = lookup(h);
    if (open?.fd !== undefined) closeSync(open.fd);
    if (h.length === 4) handles.delete(h.readUInt32BE(0));
    sftp.status(id, STATUS.OK);
  });
}

function authenticate(client: Connection, opts: SftpStandinOptions, log: SftpStandin['log']): void {
  const userKey = opts.authorizedKey ? parsed(opts.authorizedKey) : undefined;
  client.on('authentication', (ctx) => {
    const same = (a: Buffer, b: Buffer) => a.length === b.length && timingSafeEqual(a, b);
    if (ctx.username !== opts.username) return ctx.reject();
    if (
      ctx.method === 'password' &&
      opts.password !== undefined &&
      same(Buffer.from(ctx.password), Buffer.from(opts.password))
    ) {
      log.logins.push(`${ctx.username}:password`);
      return ctx.accept();
    }
    if (
      ctx.method === 'publickey' &&
      userKey &&
      ctx.key.algo === userKey.type &&
      same(ctx.key.data, userKey.getPublicSSH())
    ) {
      // the first offer has no signature: the client asks whether the key would do, then signs
      if (!ctx.signature) return ctx.accept();
      if (userKey.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true) {
        log.logins.push(`${ctx.username}:publickey`);
        return ctx.accept();
      }
    }
    ctx.reject(['password', 'publickey']);
  });
}

export async function startSftpStandin(opts: SftpStandinOptions): Promise<SftpStandin> {
  const hostKey = ed25519KeyPair();
  const fingerprint =
    'SHA256:' +
    createHash('sha256').update(parsed(hostKey.public).getPublicSSH()).digest('base64').replace(/=+$/, '');
  const log: SftpStandin['log'] = { logins: [], opened: [], reads: [] };
  const holds = new Map<string, Hold>();
  const releaseAll = () => {
    for (const hold of holds.values()) hold.open();
    holds.clear();
  };
  const clients = new Set<Connection>();
  const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
    clients.add(client);
    client.on('close', () => clients.delete(client));
    client.on('error', () => {});
    authenticate(client, opts, log);
    client.on('ready', () => {
      client.on('session', (accept) => {
        accept().on('sftp', (acceptSftp) => serveSftp(acceptSftp(), opts, log, (name) => holds.get(name)));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: '127.0.0.1',
    port,
    fingerprint,
    log,
    hold(name, from) {
      holds.set(name, { name, from, ...closedGate() });
    },
    release: releaseAll,
    close: () =>
      new Promise<void>((resolve) => {
        releaseAll();
        for (const c of clients) c.end();
        server.close(() => resolve());
      }),
  };
}
