// Reads herald's configuration once from the environment and shapes it for the rest of the code.
import { existsSync } from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { envSchema, type Env } from '../schemas/config';
import type { IngestLimits } from '../schemas/ingest-limits';
import type { ServerSideEncryption } from './s3';
import type { QuietHoursPolicy } from '../schemas/reminder-settings';
import { readTemporalProfile, type TemporalConnectionOptions, type TemporalProfile } from './temporal';

export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export class ConfigError extends Error {
  constructor(readonly problems: { variable: string; message: string }[]) {
    super(
      'Configuration error:\n' +
        problems.map((p) => `  ${p.variable} ${p.message}`).join('\n') +
        '\nSee .env.example for every variable and its meaning.',
    );
    this.name = 'ConfigError';
  }
}

export interface Config {
  env: Env;
  /** LOG_LEVEL as set; unset, each process picks its own (workers info, the CLI and npm start warn) */
  logLevel: Env['LOG_LEVEL'];
  /** Operator or process name written to audit rows and packet events. */
  actor: string;
  dataDir: string;
  /** HERALD_EMBEDDED: start embedded servers for what is not configured, as npm start does */
  embedded: boolean;
  database: { url?: string; embeddedPort: number };
  temporal: {
    /** from TEMPORAL_ADDRESS or the Temporal profile; undefined = the embedded dev server */
    address?: string;
    namespace: string;
    uiUrl?: string;
    cliPath?: string;
    uiPort: number;
    embeddedPort: number;
    /** TLS, mTLS, API key and gRPC metadata, as the `temporal` CLI reads them */
    connection: Omit<TemporalConnectionOptions, 'address'>;
  };
  s3: {
    /** undefined = embedded local server; 'aws' = AWS's own endpoint for the region */
    endpoint?: string;
    bucket: string;
    region: string;
    accessKeyId?: string;
    secretAccessKey?: string;
    forcePathStyle: boolean;
    /** asked for on every object herald writes */
    serverSideEncryption: ServerSideEncryption;
    embeddedPort: number;
  };
  providers: { sms: Env['SMS_PROVIDER']; voice: Env['VOICE_PROVIDER']; email: Env['EMAIL_PROVIDER'] };
  twilio: {
    accountSid?: string;
    authToken?: string;
    fromNumber?: string;
    messagingServiceSid?: string;
    apiBaseUrl?: string;
  };
  ses: { region: string; endpoint?: string; fromAddress?: string; configurationSet?: string };
  sending: {
    fallback: { sms?: 'outbox' | 'twilio'; voice?: 'outbox' | 'twilio'; email?: 'outbox' | 'ses' };
    twilioMaxPerSecond: number;
    twilioNumberMaxPerSecond: number;
    sesMaxPerSecond: number;
    batchSize: number;
    /** schedule sends this far under each cap, so timer and network jitter never push a second over it */
    headroomPercent: number;
    providerTimeoutMs: number;
    /**
     * a send attempt silent this long is presumed dead: Temporal starts another, and its send lease
     * (renewed meanwhile) runs out after as long
     */
    heartbeatTimeoutMs: number;
    /** provider accounts whose send queues this process hosts: 'all', 'none' or keys */
    workerAccounts: 'all' | 'none' | string[];
    /** batches of one account this process sends at once */
    workerBatches: number;
  };
  ingress: {
    port: number;
    /** open connections at once, and the most a request may take to arrive */
    limits: { maxConnections: number; requestTimeoutMs: number };
    publicBaseUrl?: string;
    /** SNS topics whose SES events are accepted */
    snsTopicArns: string[];
    /** a second lock on the SNS endpoint: the subscription URL's ?secret= */
    snsSecret?: string;
    /** signs email unsubscribe links; unset = the bare message uuid (embedded mode only) */
    unsubscribeSecret?: string;
  };
  /** the deployment's quiet-hour rules; companies may narrow them in their settings */
  reminders: { quietHours: QuietHoursPolicy };
  worker: { taskQueues?: string[]; workflowBundlePath?: string; heartbeatThrottleMs: number };
  /** the /metrics, /livez and /readyz endpoint of a worker or the ingress */
  ops: { port: number; host: string };
  archive: { cron: string; batchSize: number };
  /** what a file may hold before its ingest refuses it */
  ingest: IngestLimits;
  /** the bytes an SFTP or HTTPS source's file may have when the source sets no maxFileMB */
  sources: { maxFileBytes: number };
  /** the prefixes of the environment variables a source or webhook may name as a secret */
  secretEnvPrefixes: string[];
}

const MiB = 1024 * 1024;

/**
 * A wrong value as an error may show it: never a secret's, and a URL without its password (a
 * DATABASE_URL carries one). A value with an @ that does not parse as a URL may still hold a password
 * (a typo in the scheme), so it is not shown at all.
 */
function shownValue(variable: string, raw: string | undefined): string | undefined {
  if (raw === undefined || /SECRET|TOKEN|PASSWORD|KEY$/.test(variable)) return undefined;
  if (!raw.includes('@')) return raw;
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.href;
  } catch {
    return undefined;
  }
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? 'environment');
        const shown = shownValue(variable, source[variable]);
        return { variable, message: `${issue.message}${shown === undefined ? '' : ` (got "${shown}")`}` };
      }),
    );
  }
  const env = parsed.data;
  const temporal = temporalProfileOrThrow(source, env);
  return {
    env,
    logLevel: env.LOG_LEVEL,
    actor: env.HERALD_ACTOR ?? `${os.userInfo().username}@${os.hostname()}`,
    dataDir: path.resolve(PROJECT_ROOT, env.HERALD_DATA_DIR ?? '.herald'),
    embedded: env.HERALD_EMBEDDED,
    database: { url: env.DATABASE_URL, embeddedPort: env.EMBEDDED_POSTGRES_PORT },
    temporal: {
      address: temporal.address,
      namespace: temporal.namespace ?? 'default',
      uiUrl: env.TEMPORAL_UI_URL,
      cliPath: env.TEMPORAL_CLI_PATH,
      uiPort: env.TEMPORAL_UI_PORT,
      embeddedPort: env.EMBEDDED_TEMPORAL_PORT,
      connection: { tls: temporal.tls, apiKey: temporal.apiKey, metadata: temporal.metadata },
    },
    s3: {
      endpoint: env.S3_ENDPOINT,
      bucket: env.S3_BUCKET,
      region: env.S3_REGION,
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
      serverSideEncryption: { mode: env.S3_SERVER_SIDE_ENCRYPTION, kmsKeyId: env.S3_SSE_KMS_KEY_ID },
      embeddedPort: env.EMBEDDED_S3_PORT,
    },
    providers: { sms: env.SMS_PROVIDER, voice: env.VOICE_PROVIDER, email: env.EMAIL_PROVIDER },
    twilio: {
      accountSid: env.TWILIO_ACCOUNT_SID,
      authToken: env.TWILIO_AUTH_TOKEN,
      fromNumber: env.TWILIO_FROM_NUMBER,
      messagingServiceSid: env.TWILIO_MESSAGING_SERVICE_SID,
      apiBaseUrl: env.TWILIO_API_BASE_URL,
    },
    ses: {
      region: env.AWS_REGION,
      endpoint: env.SES_ENDPOINT,
      fromAddress: env.SES_FROM_ADDRESS,
      configurationSet: env.SES_CONFIGURATION_SET,
    },
    sending: {
      fallback: {
        sms: env.SMS_FALLBACK_PROVIDER as 'outbox' | 'twilio' | undefined,
        voice: env.VOICE_FALLBACK_PROVIDER as 'outbox' | 'twilio' | undefined,
        email: env.EMAIL_FALLBACK_PROVIDER as 'outbox' | 'ses' | undefined,
      },
      twilioMaxPerSecond: env.TWILIO_MAX_PER_SECOND,
      twilioNumberMaxPerSecond: env.TWILIO_NUMBER_MAX_PER_SECOND,
      sesMaxPerSecond: env.SES_MAX_PER_SECOND,
      batchSize: env.SEND_BATCH_SIZE,
      headroomPercent: env.SEND_RATE_HEADROOM_PERCENT,
      providerTimeoutMs: env.PROVIDER_TIMEOUT_MS,
      heartbeatTimeoutMs: env.SEND_HEARTBEAT_TIMEOUT_MS,
      workerAccounts:
        env.WORKER_SEND_ACCOUNTS === 'all' || env.WORKER_SEND_ACCOUNTS === 'none'
          ? env.WORKER_SEND_ACCOUNTS
          : env.WORKER_SEND_ACCOUNTS.split(',')
              .map((k) => k.trim())
              .filter(Boolean),
      workerBatches: env.WORKER_SEND_BATCHES,
    },
    ingress: {
      port: env.INGRESS_PORT,
      limits: {
        maxConnections: env.INGRESS_MAX_CONNECTIONS,
        requestTimeoutMs: env.INGRESS_REQUEST_TIMEOUT_MS,
      },
      publicBaseUrl: env.PUBLIC_BASE_URL,
      snsTopicArns: env.SES_SNS_TOPIC_ARNS,
      snsSecret: env.SES_SNS_SECRET,
      unsubscribeSecret: env.UNSUBSCRIBE_SECRET,
    },
    reminders: {
      quietHours: {
        window: env.QUIET_HOURS,
        states: env.QUIET_HOURS_STATES,
        noSundayVoice: env.QUIET_HOURS_NO_SUNDAY_VOICE,
        channels: ['sms', 'voice'],
      },
    },
    worker: {
      taskQueues: env.WORKER_TASK_QUEUES === undefined ? undefined : parseTaskQueues(env.WORKER_TASK_QUEUES),
      workflowBundlePath: env.WORKFLOW_BUNDLE_PATH,
      heartbeatThrottleMs: env.WORKER_HEARTBEAT_THROTTLE_MS,
    },
    archive: { cron: env.ARCHIVE_CRON, batchSize: env.ARCHIVE_BATCH_SIZE },
    ops: { port: env.OPS_PORT, host: env.OPS_HOST },
    ingest: {
      maxColumns: env.INGEST_MAX_COLUMNS,
      maxLineChars: env.INGEST_MAX_LINE_CHARS,
      maxJsonDepth: env.INGEST_MAX_JSON_DEPTH,
      maxSharedStringsBytes: env.INGEST_MAX_XLSX_SHARED_STRINGS_MB * MiB,
    },
    sources: { maxFileBytes: env.SOURCE_MAX_FILE_MB * MiB },
    secretEnvPrefixes: env.SECRET_ENV_PREFIXES,
  };
}

/** The Temporal profile, its problems (a missing profile or file, an unreadable certificate) named like the others'. */
function temporalProfileOrThrow(source: NodeJS.ProcessEnv, env: Env): TemporalProfile {
  try {
    return readTemporalProfile(source);
  } catch (err) {
    const variable = env.TEMPORAL_PROFILE
      ? 'TEMPORAL_PROFILE'
      : env.TEMPORAL_CONFIG_FILE
        ? 'TEMPORAL_CONFIG_FILE'
        : 'TEMPORAL_TLS_*';
    throw new ConfigError([{ variable, message: `cannot be used: ${(err as Error).message}` }]);
  }
}

/**
 * Loads `.env` of the current directory into the environment, as Docker Compose does; a variable set
 * in the environment wins over the file. For process entry points, before their configuration is read.
 */
/**
 * Task queues as WORKER_TASK_QUEUES and `--queues` list them. `none`: no workflow queues, for a process that
 * hosts only the send queues of WORKER_SEND_ACCOUNTS.
 */
export function parseTaskQueues(list: string): string[] {
  if (list.trim() === 'none') return [];
  return list
    .split(',')
    .map((q) => q.trim())
    .filter(Boolean);
}

export function loadDotEnv(file = path.resolve('.env')): void {
  if (existsSync(file)) process.loadEnvFile(file);
}

/** For process entry points: a start-up failure is said in one plain line (exit 2 for configuration, else 1). */
export function exitOnStartFailure(process_: string): (err: Error) => never {
  return (err) => {
    process.stderr.write(`herald ${process_}: ${err.message}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  };
}

/** For process entry points: a bad configuration prints its problems and stops with exit code 2. */
export function loadConfigOrExit(source: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(source);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(err.message + '\n');
      process.exit(2);
    }
    throw err;
  }
}
