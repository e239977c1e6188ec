// Reads herald's configuration once from the environment and shapes it for the rest of the code.
import path from 'node:path';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { envSchema, type Env } from '../schemas/config';
import type { QuietHoursPolicy } from '../schemas/reminder-settings';

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
  logLevel: Env['LOG_LEVEL'];
  /** Operator or process name written to audit rows and packet events. */
  actor: string;
  dataDir: string;
  database: { url?: string; embeddedPort: number };
  temporal: {
    address?: string;
    namespace: string;
    uiUrl?: string;
    cliPath?: string;
    uiPort: number;
    tls: boolean;
    apiKey?: string;
  };
  s3: {
    /** undefined = embedded local server; 'aws' = AWS's own endpoint for the region */
    endpoint?: string;
    bucket: string;
    region: string;
    accessKeyId?: string;
    secretAccessKey?: string;
    forcePathStyle: boolean;
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
    /** provider accounts whose send queues this process hosts: 'all', 'none' or keys */
    workerAccounts: 'all' | 'none' | string[];
  };
  ingress: {
    port: number;
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
  archive: { cron: string; batchSize: number };
}

export function loadConfig(source: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const variable = String(issue.path[0] ?? 'environment');
        const raw = source[variable];
        const shown =
          raw === undefined || /SECRET|TOKEN|PASSWORD|KEY$/.test(variable) ? '' : ` (got "${raw}")`;
        return { variable, message: `${issue.message}${shown}` };
      }),
    );
  }
  const env = parsed.data;
  return {
    env,
    logLevel: env.LOG_LEVEL,
    actor: env.HERALD_ACTOR ?? `${os.userInfo().username}@${os.hostname()}`,
    dataDir: path.resolve(PROJECT_ROOT, env.HERALD_DATA_DIR ?? '.herald'),
    database: { url: env.DATABASE_URL, embeddedPort: env.EMBEDDED_POSTGRES_PORT },
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      uiUrl: env.TEMPORAL_UI_URL,
      cliPath: env.TEMPORAL_CLI_PATH,
      uiPort: env.TEMPORAL_UI_PORT,
      tls: env.TEMPORAL_TLS,
      apiKey: env.TEMPORAL_API_KEY,
    },
    s3: {
      endpoint: env.S3_ENDPOINT,
      bucket: env.S3_BUCKET,
      region: env.S3_REGION,
      accessKeyId: env.S3_ACCESS_KEY_ID,
      secretAccessKey: env.S3_SECRET_ACCESS_KEY,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
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
      workerAccounts:
        env.WORKER_SEND_ACCOUNTS === 'all' || env.WORKER_SEND_ACCOUNTS === 'none'
          ? env.WORKER_SEND_ACCOUNTS
          : env.WORKER_SEND_ACCOUNTS.split(',')
              .map((k) => k.trim())
              .filter(Boolean),
    },
    ingress: {
      port: env.INGRESS_PORT,
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
      taskQueues: env.WORKER_TASK_QUEUES?.split(',')
        .map((q) => q.trim())
        .filter(Boolean),
      workflowBundlePath: env.WORKFLOW_BUNDLE_PATH,
      heartbeatThrottleMs: env.WORKER_HEARTBEAT_THROTTLE_MS,
    },
    archive: { cron: env.ARCHIVE_CRON, batchSize: env.ARCHIVE_BATCH_SIZE },
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
