// The fault suite's world, started once per run: crashable Postgres, a restartable Temporal dev server, local S3,
// the Twilio stand-in in a process of its own, a prebuilt workflow bundle, and the environment worker processes get.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { createSql, type Sql } from '../../../lib/db';
import { createLogger, type Logger } from '../../../lib/log';
import { startLocalS3, EMBEDDED_S3_ACCESS_KEY, EMBEDDED_S3_SECRET_KEY } from '../../../lib/runtime/s3-server';
import { createS3Client, ensureBucket } from '../../../lib/s3';
import { setUpDatabase } from '../../../lib/setup-database';
import { buildWorkflowBundle } from '../../../workers/workflow-bundle';
import { startTwilioStandinProcess, type TwilioStandinProcess } from '../../standins/twilio-process';
import {
  startCrashablePostgres,
  startRestartableTemporal,
  type CrashablePostgres,
  type RestartableTemporal,
} from './servers';

export interface ChaosWorld {
  log: Logger;
  postgres: CrashablePostgres;
  temporal: RestartableTemporal;
  twilio: TwilioStandinProcess;
  sql: Sql;
  client: Client;
  /** what a worker process of this world needs in its environment (servers, bundle, Twilio stand-in) */
  env: Record<string, string>;
}

/** The send activity's heartbeat timeout in the world's workers. */
export const CHAOS_HEARTBEAT_TIMEOUT_MS = 5000;

/** The full form (`npm run chaos` without --short) runs each scenario at a larger volume. */
export const fullForm = () => process.env.HERALD_CHAOS_FORM === 'full';
export const volume = (short: number, full: number) => (fullForm() ? full : short);

/** The sender number the world's Twilio account texts from, unless a scenario gives its own. */
export const WORLD_FROM_NUMBER = '+16175550142';

let current: Promise<ChaosWorld> | undefined;
const stops: (() => Promise<unknown>)[] = [];

async function start(): Promise<ChaosWorld> {
  const log = createLogger({ level: 'warn', pretty: false });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-chaos-'));
  // Postgres runs as its own user when we are root: it must reach its data directory inside this one
  await chmod(dir, 0o755);
  stops.push(() => rm(dir, { recursive: true, force: true }));
  const namespace = 'default';
  const [postgres, temporal, s3, twilio, bundle] = await Promise.all([
    startCrashablePostgres(dir, log),
    startRestartableTemporal(dir, namespace, log),
    startLocalS3({ directory: path.join(dir, 's3'), port: 0, log }),
    startTwilioStandinProcess(),
    buildWorkflowBundle(),
  ]);
  stops.push(postgres.stop, temporal.stop, s3.stop, twilio.close);
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  await writeFile(bundlePath, bundle.code);
  const s3Client = createS3Client({
    endpoint: s3.endpoint,
    bucket: 'herald',
    region: 'us-east-1',
    accessKeyId: EMBEDDED_S3_ACCESS_KEY,
    secretAccessKey: EMBEDDED_S3_SECRET_KEY,
    forcePathStyle: true,
  });
  await ensureBucket(s3Client, 'herald');
  s3Client.destroy();

  const sql = createSql({ url: postgres.url, actor: 'chaos' });
  stops.push(() => sql.end({ timeout: 5 }));
  await setUpDatabase(sql);
  const connection = await Connection.connect({ address: temporal.address });
  stops.push(() => connection.close());
  const client = new Client({ connection, namespace });

  const env: Record<string, string> = {
    DATABASE_URL: postgres.url,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_NAMESPACE: namespace,
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: 'herald',
    S3_ACCESS_KEY_ID: EMBEDDED_S3_ACCESS_KEY,
    S3_SECRET_ACCESS_KEY: EMBEDDED_S3_SECRET_KEY,
    WORKFLOW_BUNDLE_PATH: bundlePath,
    SMS_PROVIDER: 'twilio',
    TWILIO_ACCOUNT_SID: twilio.accountSid,
    TWILIO_AUTH_TOKEN: twilio.authToken,
    TWILIO_API_BASE_URL: twilio.url,
    TWILIO_FROM_NUMBER: WORLD_FROM_NUMBER,
    HERALD_ACTOR: 'chaos-worker',
    // several worker processes on one machine: each its own metrics port
    OPS_PORT: '0',
    // attempts declared dead within seconds, so a scenario's takeovers (and their fences) fit in a run
    SEND_HEARTBEAT_TIMEOUT_MS: String(CHAOS_HEARTBEAT_TIMEOUT_MS),
    PROVIDER_TIMEOUT_MS: '5000',
  };
  return { log, postgres, temporal, twilio, sql, client, env };
}

/** The world, started on first use and shared by every scenario of the run. */
export function chaosWorld(): Promise<ChaosWorld> {
  return (current ??= start());
}

export async function stopChaosWorld(): Promise<void> {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
  current = undefined;
}
