// The embedded runtime: real Postgres, the Temporal dev server and versitygw as local S3, each only where no address is configured.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, type Config } from '../config';
import type { Logger } from '../log';
import { createS3Client, ensureBucket, type S3Settings } from '../s3';
import { connectTemporal, type TemporalSettings } from '../temporal';
import { startEmbeddedPostgres } from './postgres';
import { EMBEDDED_S3_ACCESS_KEY, EMBEDDED_S3_SECRET_KEY, startLocalS3 } from './s3-server';
import { GO_TOOLS, resolveGoTool } from './go-tools';
import { ensureSearchAttributes, startSdkDownloadedServer, startTemporalDevServer } from './temporal-server';

export interface Runtime {
  databaseUrl: string;
  temporal: TemporalSettings;
  s3: S3Settings;
  /** which parts this process started (and will stop) */
  embedded: { postgres: boolean; temporal: boolean; s3: boolean };
  /** true when another herald process owns the embedded servers and this one only uses them */
  attached: boolean;
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  log: Logger;
  /** start embedded servers for what is not configured (npm start; HERALD_EMBEDDED=1 asks the same) */
  embedded?: boolean;
  /** fresh embedded servers on random ports in a temporary directory, removed on stop (tests, benchmarks) */
  ephemeral?: boolean;
  /** the embedded Postgres without fsync, synchronous commit and full-page writes: for throwaway data only */
  fastPostgres?: boolean;
  /** what a person should see (a long build, the UI address) */
  notice?: (message: string) => void;
}

interface RuntimeFile {
  pid: number;
  databaseUrl: string;
  /** only an embedded server's address is written here: no credentials */
  temporal: Pick<TemporalSettings, 'address' | 'namespace' | 'uiUrl'>;
  s3: S3Settings;
  embedded: Runtime['embedded'];
  /** server processes to stop if the owner dies without stopping them */
  childPids: number[];
}

const runtimeFile = (dataDir: string) => path.join(dataDir, 'runtime.json');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Another `npm start` on this checkout already runs the embedded servers: use them instead of starting a second set. */
async function attachToRunning(config: Config): Promise<Runtime | undefined> {
  const file = runtimeFile(config.dataDir);
  if (!existsSync(file)) return undefined;
  const state = JSON.parse(await readFile(file, 'utf8')) as RuntimeFile;
  if (state.pid === process.pid) return undefined;
  if (!alive(state.pid)) {
    // the owner died without stopping its servers: stop them so their ports and files are free
    const orphans = (state.childPids ?? []).filter(alive);
    for (const pid of orphans) process.kill(pid, 'SIGTERM');
    for (let i = 0; i < 100 && orphans.some(alive); i++) await new Promise((r) => setTimeout(r, 100));
    await rm(file, { force: true });
    return undefined;
  }
  return {
    databaseUrl: config.database.url ?? state.databaseUrl,
    temporal: temporalFromConfig(config) ?? state.temporal,
    s3: config.s3.endpoint ? s3FromConfig(config) : state.s3,
    embedded: { postgres: false, temporal: false, s3: false },
    attached: true,
    stop: async () => {},
  };
}

function temporalFromConfig(config: Config): TemporalSettings | undefined {
  const { address, namespace, uiUrl, connection } = config.temporal;
  return address ? { ...connection, address, namespace, uiUrl } : undefined;
}

const REQUIRED_WITHOUT_EMBEDDED = {
  postgres: { variable: 'DATABASE_URL', what: 'a postgres:// URL' },
  temporal: { variable: 'TEMPORAL_ADDRESS', what: 'host:port of a Temporal frontend, or a Temporal profile' },
  s3: { variable: 'S3_ENDPOINT', what: 'an S3-compatible URL, or the word aws' },
} as const;

/** Outside npm start and HERALD_EMBEDDED, a server that is not configured is an error, never an empty local one. */
function notConfigured(needs: Runtime['embedded']): ConfigError {
  return new ConfigError(
    (Object.keys(needs) as (keyof typeof needs)[])
      .filter((part) => needs[part])
      .map((part) => ({
        variable: REQUIRED_WITHOUT_EMBEDDED[part].variable,
        message:
          `is not set: set it to ${REQUIRED_WITHOUT_EMBEDDED[part].what}. ` +
          '(Embedded servers start only with npm start, or HERALD_EMBEDDED=1 for development.)',
      })),
  );
}

function s3FromConfig(config: Config): S3Settings {
  const { endpoint, bucket, region, accessKeyId, secretAccessKey, forcePathStyle, serverSideEncryption } =
    config.s3;
  return { endpoint, bucket, region, accessKeyId, secretAccessKey, forcePathStyle, serverSideEncryption };
}

export async function startRuntime(config: Config, opts: RuntimeOptions): Promise<Runtime> {
  const { log } = opts;
  const notice = opts.notice ?? ((m: string) => log.info(m));
  const needs = {
    postgres: !config.database.url,
    temporal: !config.temporal.address,
    s3: !config.s3.endpoint,
  };
  if (!opts.ephemeral && (needs.postgres || needs.temporal || needs.s3)) {
    const attached = await attachToRunning(config);
    if (attached) {
      log.debug('using the embedded servers of the herald process already running');
      return attached;
    }
    if (!opts.embedded && !config.embedded) throw notConfigured(needs);
  }
  // stable ports across starts, so saved addresses keep working; random ones for throwaway servers
  const port = (configured: number) => (opts.ephemeral ? 0 : configured);

  const dataDir = opts.ephemeral ? await mkdtemp(path.join(os.tmpdir(), 'herald-')) : config.dataDir;
  const stops: (() => Promise<void>)[] = [];
  const childPids: number[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((err) => log.error({ err }, 'stopping a server failed'));
    stops.length = 0;
  };

  try {
    const [databaseUrl, temporal, s3] = await Promise.all([
      (async () => {
        if (!needs.postgres) return config.database.url as string;
        const pg = await startEmbeddedPostgres({
          dataDir,
          port: port(config.database.embeddedPort),
          fast: opts.fastPostgres,
          log,
        });
        stops.push(pg.stop);
        if (pg.pid) childPids.push(pg.pid);
        return pg.url;
      })(),
      (async (): Promise<TemporalSettings> => {
        const configured = temporalFromConfig(config);
        if (configured) return configured;
        const cli = await resolveGoTool(GO_TOOLS.temporal, {
          env: { ...process.env, TEMPORAL_CLI_PATH: config.temporal.cliPath },
          notice,
        });
        const server = cli
          ? await startTemporalDevServer({
              cliPath: cli.path,
              namespace: config.temporal.namespace,
              port: port(config.temporal.embeddedPort),
              uiPort: port(config.temporal.uiPort),
              dbFile: opts.ephemeral ? undefined : path.join(dataDir, 'temporal.sqlite'),
              log,
            })
          : await startSdkDownloadedServer({ namespace: config.temporal.namespace, log });
        stops.push(server.stop);
        if (server.pid) childPids.push(server.pid);
        return {
          address: server.address,
          namespace: config.temporal.namespace,
          uiUrl: config.temporal.uiUrl ?? server.uiUrl,
        };
      })(),
      (async (): Promise<S3Settings> => {
        if (!needs.s3) return s3FromConfig(config);
        const server = await startLocalS3({
          directory: path.join(dataDir, 'versitygw'),
          port: port(config.s3.embeddedPort),
          log,
          notice,
        });
        stops.push(server.stop);
        if (server.pid) childPids.push(server.pid);
        return {
          endpoint: server.endpoint,
          bucket: config.s3.bucket,
          region: config.s3.region,
          accessKeyId: EMBEDDED_S3_ACCESS_KEY,
          secretAccessKey: EMBEDDED_S3_SECRET_KEY,
          forcePathStyle: true,
          serverSideEncryption: config.s3.serverSideEncryption,
        };
      })(),
    ]);

    const connection = await connectTemporal(temporal);
    try {
      const added = await ensureSearchAttributes(connection, temporal.namespace);
      if (added.length) log.info({ added }, 'registered herald search attributes');
    } finally {
      await connection.close();
    }
    const s3Client = createS3Client(s3);
    try {
      if (await ensureBucket(s3Client, s3.bucket)) log.info({ bucket: s3.bucket }, 'created the S3 bucket');
    } finally {
      s3Client.destroy();
    }

    const ownsSomething = needs.postgres || needs.temporal || needs.s3;
    if (ownsSomething && !opts.ephemeral) {
      const { address, namespace, uiUrl } = temporal;
      const state: RuntimeFile = {
        pid: process.pid,
        databaseUrl,
        temporal: { address, namespace, uiUrl },
        s3,
        embedded: needs,
        childPids,
      };
      await writeFile(runtimeFile(dataDir), JSON.stringify(state, null, 2));
      stops.unshift(() => rm(runtimeFile(dataDir), { force: true }));
    }
    if (opts.ephemeral) stops.unshift(() => rm(dataDir, { recursive: true, force: true }));

    return { databaseUrl, temporal, s3, embedded: needs, attached: false, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
