// Opens everything a herald process needs (runtime, database, S3, Temporal) and closes it in order.
import type { S3Client } from '@aws-sdk/client-s3';
import type { Client } from '@temporalio/client';
import { loadConfig, type Config } from './config';
import { createSql, type Sql } from './db';
import { createLogger, type Logger } from './log';
import { startRuntime, type Runtime } from './runtime';
import { createS3Client } from './s3';
import { setUpDatabase } from './setup-database';
import { connectClient, type TemporalSettings } from './temporal';

export interface App {
  config: Config;
  log: Logger;
  runtime: Runtime;
  sql: Sql;
  s3: S3Client;
  bucket: string;
  temporal: TemporalSettings;
  /** one shared Temporal client, connected on first use */
  client(): Promise<Client>;
  close(): Promise<void>;
}

export interface OpenOptions {
  config?: Config;
  log?: Logger;
  /** start embedded servers for what is not configured (npm start) */
  embedded?: boolean;
  /** throwaway embedded servers (tests, benchmarks) */
  ephemeral?: boolean;
  /** the throwaway Postgres without durability, where a test or benchmark asks for speed */
  fastPostgres?: boolean;
  /** apply migrations and load-map files (start, workers and tests do; read-only commands need not) */
  setUp?: boolean;
  notice?: (message: string) => void;
}

export async function openApp(opts: OpenOptions = {}): Promise<App> {
  const config = opts.config ?? loadConfig();
  const log = opts.log ?? createLogger({ level: config.logLevel ?? 'info' });
  const runtime = await startRuntime(config, {
    log,
    embedded: opts.embedded,
    ephemeral: opts.ephemeral,
    fastPostgres: opts.fastPostgres,
    notice: opts.notice,
  });
  const sql = createSql({ url: runtime.databaseUrl, actor: config.actor });
  const s3 = createS3Client(runtime.s3);
  const temporal: TemporalSettings = runtime.temporal;
  let client: Promise<Client> | undefined;
  const app: App = {
    config,
    log,
    runtime,
    sql,
    s3,
    bucket: runtime.s3.bucket,
    temporal,
    client: () => (client ??= connectClient(temporal)),
    close: async () => {
      if (client) await (await client).connection.close().catch(() => {});
      s3.destroy();
      await sql.end({ timeout: 5 });
      await runtime.stop();
    },
  };
  try {
    if (opts.setUp) {
      const result = await setUpDatabase(sql);
      if (result.applied.length) log.info({ applied: result.applied }, 'applied migrations');
      for (const m of result.loadMaps.filter((m) => m.changed)) {
        log.info({ company: m.company, loadMap: m.name, version: m.version }, 'load map version recorded');
      }
    }
  } catch (err) {
    await app.close();
    throw err;
  }
  return app;
}
