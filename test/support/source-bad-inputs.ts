// Bad input at the sources (SFTP, HTTPS API, S3, source definitions, upload): rows for test/ingest-bad-input.test.ts.
// Each runs a real discovery (or the CLI) and reports the error a person reads; it throws if anything was written.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import type { App } from '../../lib/app';
import { sshFingerprint } from '../../lib/sources/sftp';
import { SourceConfigError } from '../../lib/sources/store';
import type { IngestSourceInput } from '../../schemas/ingest-source';
import { startHttpFeed, type FeedAnswer, type HttpFeed } from '../standins/http-feed';
import { otherHostKeyBlob, startSftpStandin, type SftpStandin } from '../standins/sftp';
import { runHerald } from './cli';
import type { TestCompany } from './ingest';
import { addTestSource, keysUnder, packetsOf, runDiscovery } from './sources';

interface Env {
  app: App;
  company: TestCompany;
  taskQueue: string;
}

export interface SourceBadInput {
  name: string;
  run: (env: Env) => Promise<{ error: string | null; type?: string }>;
  fails: RegExp;
  type?: string;
}

// one SFTP server and one HTTP feed for every case, started on first use and closed with the file's other servers
let servers: Promise<{ sftp: SftpStandin; feed: HttpFeed }> | undefined;
afterAll(async () => {
  if (!servers) return;
  const { sftp, feed } = await servers;
  await Promise.all([sftp.close(), feed.close()]);
});

function startServers(): Promise<{ sftp: SftpStandin; feed: HttpFeed }> {
  return (servers ??= (async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'herald-bad-sftp-'));
    await mkdir(path.join(root, 'drop'));
    await writeFile(path.join(root, 'drop', 'taken-away.csv'), 'Patient ID\r\nP1\r\n');
    await mkdir(path.join(root, 'big'));
    await writeFile(path.join(root, 'big', 'roster.csv'), 'Patient ID\r\n' + 'P1\r\n'.repeat(600_000));
    process.env.HERALD_SECRET_BAD_SFTP_PASSWORD = 'right';
    process.env.HERALD_SECRET_BAD_SFTP_WRONG = 'wrong';
    process.env.HERALD_SECRET_BAD_API_TOKEN = 'token';
    return {
      sftp: await startSftpStandin({
        root,
        username: 'feed',
        password: 'right',
        vanishing: ['taken-away.csv'],
      }),
      feed: await startHttpFeed(),
    };
  })());
}

/** Runs the source's discovery and insists nothing reached the packets table or herald's bucket. */
async function discoverNothing(
  env: Env,
  input: Omit<IngestSourceInput, 'name'>,
): Promise<{ error: string | null; type?: string }> {
  const source = await addTestSource(env.app, env.company.alias, { loadMap: 'ehr', ...input });
  const run = await runDiscovery(env.app, source, env.taskQueue);
  const packets = await packetsOf(env.app, source);
  const keys = await keysUnder(env.app, `raw/${env.company.alias}/${source.name}/`);
  if (packets.length > 0 || keys.length > 0)
    throw new Error(`the failed discovery left ${packets.length} packets and ${keys.length} objects`);
  return { error: run.error?.message ?? null, type: run.error?.type };
}

async function sftp(overrides: Record<string, unknown>, env: Env) {
  const { sftp: server } = await startServers();
  const config = {
    host: server.host,
    port: server.port,
    username: 'feed',
    passwordEnv: 'HERALD_SECRET_BAD_SFTP_PASSWORD',
    hostKeySha256: server.fingerprint,
    directory: '/drop',
    glob: '*.csv',
    ...overrides,
  };
  return discoverNothing(env, { kind: 'sftp', config } as Omit<IngestSourceInput, 'name'>);
}

async function api(answer: FeedAnswer, env: Env, config: Record<string, unknown> = {}) {
  const { feed } = await startServers();
  const pathname = `/feed/${Math.random().toString(36).slice(2)}`;
  feed.routes.set(pathname, answer);
  return discoverNothing(env, {
    kind: 'api',
    config: { url: `${feed.url}${pathname}`, format: 'csv', ...config },
  } as Omit<IngestSourceInput, 'name'>);
}

async function definition(input: Record<string, unknown>, env: Env) {
  try {
    await addTestSource(env.app, env.company.alias, input as unknown as Omit<IngestSourceInput, 'name'>);
    return { error: null };
  } catch (err) {
    if (!(err instanceof SourceConfigError)) throw err;
    return { error: err.message, type: err.type };
  }
}

const otherHostKey = () => sshFingerprint(otherHostKeyBlob());

export const SOURCE_BAD_INPUTS: SourceBadInput[] = [
  {
    name: 'an SFTP server presenting another host key',
    run: (env) => sftp({ hostKeySha256: otherHostKey() }, env),
    fails: /presented host key SHA256:\S+, but the source expects SHA256:\S+; nothing was read/,
    type: 'HostKeyMismatch',
  },
  {
    name: 'an SFTP password the server refuses',
    run: (env) => sftp({ passwordEnv: 'HERALD_SECRET_BAD_SFTP_WRONG' }, env),
    fails: /SFTP login as feed@127\.0\.0\.1:\d+ was refused: check the source's credentials/,
    type: 'SftpAuthentication',
  },
  {
    name: 'an SFTP directory that does not exist',
    run: (env) => sftp({ directory: '/nowhere' }, env),
    fails: /cannot list the SFTP directory \/nowhere/,
    type: 'RemoteDirectoryMissing',
  },
  {
    name: 'an SFTP file gone between listing and copy',
    run: (env) => sftp({}, env),
    fails: /\/drop\/taken-away\.csv: the SFTP file \/drop\/taken-away\.csv is no longer on the server/,
    type: 'DiscoveryIncomplete',
  },
  {
    name: 'an SFTP password variable not set on the worker',
    run: (env) => sftp({ passwordEnv: 'HERALD_SECRET_BAD_NEVER_SET' }, env),
    fails:
      /the environment variable HERALD_SECRET_BAD_NEVER_SET \(the SFTP password\) is not set on this worker/,
    type: 'MissingSecret',
  },
  {
    name: 'an API answering 404',
    run: (env) => api({ status: 404, contentType: 'text/plain', body: 'gone' }, env),
    fails: /answered 404 Not Found: check the source's URL and credentials/,
    type: 'HttpStatus',
  },
  {
    name: 'an API answering 500 every time',
    run: (env) => api({ status: 500, contentType: 'text/plain', body: 'boom' }, env),
    fails: /answered 500 Internal Server Error; will retry/,
    type: 'HttpStatus',
  },
  {
    name: 'an API sending HTML instead of CSV',
    run: (env) => api({ contentType: 'text/html', body: '<html>Sign in</html>' }, env),
    fails: /sent text\/html, but the source expects csv/,
    type: 'WrongContentType',
  },
  {
    name: 'an API sending JSON to a CSV source',
    run: (env) => api({ contentType: 'application/json', body: '[]' }, env),
    fails: /sent application\/json, but the source expects csv/,
    type: 'WrongContentType',
  },
  {
    name: 'an API answering with no content',
    run: (env) => api({ contentType: 'text/csv', body: '' }, env),
    fails: /answered with no content/,
    type: 'EmptyResponse',
  },
  {
    name: 'an API answer that never ends',
    run: async (env) => {
      const { feed } = await startServers();
      const before = feed.requests.length;
      const endless = { contentType: 'text/csv', body: 'Patient ID\r\n'.repeat(1000), endless: true };
      const outcome = await api(endless, env, { maxFileMB: 1 });
      // refused on the first attempt, not copied again by retries
      return { ...outcome, error: `${outcome.error} (asked ${feed.requests.length - before} times)` };
    },
    fails:
      /is larger than 1 MB, the most one file of this source may have \(maxFileMB of source bad-\w+\/api-\w+\); nothing was kept \(asked 1 times\)/,
    type: 'FileTooLarge',
  },
  {
    name: 'an SFTP file larger than its source allows',
    run: (env) => sftp({ directory: '/big', maxFileMB: 1 }, env),
    fails:
      /\/big\/roster\.csv: roster\.csv is 2 MB, over 1 MB, the most one file of this source may have \(maxFileMB of source/,
    type: 'DiscoveryIncomplete',
  },
  {
    name: 'an API redirecting to plain http on another host',
    run: (env) => api({ status: 302, location: 'http://exports.example.com/roster.csv', body: '' }, env),
    fails:
      /a redirect led to http:\/\/exports\.example\.com, which is not https; nothing was fetched from it/,
    type: 'RedirectRefused',
  },
  {
    name: 'an API redirecting to a private address',
    run: (env) => api({ status: 302, location: 'https://10.1.2.3/roster.csv', body: '' }, env),
    fails:
      /a redirect led to https:\/\/10\.1\.2\.3, and 10\.1\.2\.3 is 10\.1\.2\.3, not a public address; if the source really moves there, add 10\.1\.2\.3 to its redirectHosts/,
    type: 'RedirectRefused',
  },
  {
    name: 'an API redirecting to a name of this machine',
    run: async (env) => {
      const { feed } = await startServers();
      const port = new URL(feed.url).port;
      return api({ status: 302, location: `http://localhost:${port}/elsewhere.csv`, body: '' }, env);
    },
    fails:
      /a redirect led to http:\/\/localhost:\d+, and localhost is (127\.0\.0\.1|::1), not a public address/,
    type: 'RedirectRefused',
  },
  {
    name: "an API source naming herald's own credential as a header",
    run: async (env) => {
      process.env.S3_SECRET_ACCESS_KEY ??= 'herald-own-s3-secret';
      const { feed } = await startServers();
      const before = feed.requests.length;
      const outcome = await api({ contentType: 'text/csv', body: 'a\r\n1\r\n' }, env, {
        headers: { 'X-Api-Key': { env: 'S3_SECRET_ACCESS_KEY' } },
      });
      return { ...outcome, error: `${outcome.error} (requests sent: ${feed.requests.length - before})` };
    },
    fails:
      /the environment variable S3_SECRET_ACCESS_KEY may not be read as a secret: its name must start with HERALD_SECRET_ \(SECRET_ENV_PREFIXES\) \(header X-Api-Key\) \(requests sent: 0\)/,
    type: 'SecretNotAllowed',
  },
  {
    name: 'an API token variable not set on the worker',
    run: (env) =>
      api({ contentType: 'text/csv', body: 'a\r\n1\r\n' }, env, {
        headers: { Authorization: { env: 'HERALD_SECRET_BAD_NEVER_SET', prefix: 'Bearer ' } },
      }),
    fails: /HERALD_SECRET_BAD_NEVER_SET \(header Authorization\) is not set/,
    type: 'MissingSecret',
  },
  {
    name: 'an S3 source whose bucket does not exist',
    run: (env) => discoverNothing(env, { kind: 's3', config: { bucket: 'herald-no-such-bucket' } }),
    fails: /cannot list s3:\/\/herald-no-such-bucket\/: NoSuchBucket/,
    type: 'S3Source',
  },
  {
    name: 'a source storing a token in clear',
    run: (env) =>
      definition(
        {
          name: 'clear',
          kind: 'api',
          config: {
            url: 'https://api.example.com/x',
            format: 'csv',
            headers: { Authorization: 'Bearer abc' },
          },
        },
        env,
      ),
    fails:
      /config\.headers\.Authorization: header Authorization carries a secret: reference an environment variable/,
    type: 'SourceConfig',
  },
  {
    name: 'a source with a malformed host-key fingerprint',
    run: (env) =>
      definition(
        {
          name: 'fp',
          kind: 'sftp',
          config: { host: 'sftp.example.com', username: 'u', passwordEnv: 'P', hostKeySha256: 'aa:bb:cc' },
        },
        env,
      ),
    fails: /config\.hostKeySha256: must be a SHA256 fingerprint as `ssh-keygen -lf` prints it/,
    type: 'SourceConfig',
  },
  {
    name: 'an API source over plain http to another host',
    run: (env) =>
      definition(
        { name: 'plain', kind: 'api', config: { url: 'http://api.example.com/export.csv', format: 'csv' } },
        env,
      ),
    fails: /config\.url: must be an https URL/,
    type: 'SourceConfig',
  },
  {
    name: 'an upload of a file that does not exist',
    run: async (env) => {
      const run = await runHerald(['upload', 'nope/appointments.csv', '--company', env.company.alias]);
      return { error: run.code === 2 ? run.stderr.trim() : `exit code ${run.code}` };
    },
    fails: /nope\/appointments\.csv is not a readable file/,
  },
];
