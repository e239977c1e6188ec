// The zod schema of herald's configuration: every environment variable, its default and its check.
import { z } from 'zod';
import { DEFAULT_INGEST_LIMITS, DEFAULT_SOURCE_MAX_FILE_BYTES } from './ingest-limits';
import {
  DEFAULT_QUIET_WINDOW,
  DEFAULT_STATE_WINDOWS,
  parseStateWindowsText,
  parseWindowText,
} from './reminder-settings';

const MiB = 1024 * 1024;

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** Empty strings in the environment mean "unset", so `FOO=` behaves like no FOO at all. */
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const optionalUrl = (protocols: string[], example: string) =>
  optionalString.superRefine((v, ctx) => {
    if (v === undefined) return;
    let url: URL;
    try {
      url = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be a URL such as ${example}` });
      return;
    }
    if (!protocols.includes(url.protocol)) {
      ctx.addIssue({
        code: 'custom',
        message: `must start with ${protocols.join(' or ')} (e.g. ${example})`,
      });
    }
  });

const port = (fallback: number) =>
  optionalString.transform((v, ctx) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > 65535) {
      ctx.addIssue({ code: 'custom', message: 'must be a port number between 0 and 65535' });
      return z.NEVER;
    }
    return n;
  });

const positiveNumber = (fallback: number, max = Number.MAX_SAFE_INTEGER) =>
  optionalString.transform((v, ctx) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || n > max) {
      ctx.addIssue({ code: 'custom', message: `must be a number above 0 and at most ${max}` });
      return z.NEVER;
    }
    return n;
  });

const wholeNumber = (fallback: number, max: number) =>
  optionalString.transform((v, ctx) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n <= 0 || n > max) {
      ctx.addIssue({ code: 'custom', message: `must be a whole number from 1 to ${max}` });
      return z.NEVER;
    }
    return n;
  });

const fallbackProvider = (choices: readonly [string, ...string[]]) =>
  optionalString.pipe(z.enum(choices).optional());

const bool = (fallback: boolean) =>
  optionalString.transform((v, ctx) => {
    if (v === undefined) return fallback;
    if (/^(1|true|yes|on)$/i.test(v)) return true;
    if (/^(0|false|no|off)$/i.test(v)) return false;
    ctx.addIssue({ code: 'custom', message: 'must be true or false' });
    return z.NEVER;
  });

const hostPort = optionalString.superRefine((v, ctx) => {
  if (v !== undefined && !/^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'must be host:port, e.g. temporal.internal:7233' });
  }
});

export const envSchema = z
  .object({
    NODE_ENV: optionalString,
    LOG_LEVEL: optionalString.pipe(z.enum(LOG_LEVELS).optional()),
    HERALD_DATA_DIR: optionalString,
    HERALD_ACTOR: optionalString,
    HERALD_CACHE_DIR: optionalString,
    HERALD_EMBEDDED: bool(false),

    DATABASE_URL: optionalUrl(['postgres:', 'postgresql:'], 'postgres://user:pass@host:5432/herald'),
    EMBEDDED_POSTGRES_PORT: port(5433),

    TEMPORAL_ADDRESS: hostPort,
    TEMPORAL_NAMESPACE: optionalString,
    TEMPORAL_UI_URL: optionalUrl(['http:', 'https:'], 'https://temporal.example.com'),
    TEMPORAL_CLI_PATH: optionalString,
    VERSITYGW_PATH: optionalString,
    TEMPORAL_UI_PORT: port(8233),
    EMBEDDED_TEMPORAL_PORT: port(7233),
    TEMPORAL_TLS: optionalString.superRefine((v, ctx) => {
      // read by @temporalio/envconfig, which takes only these spellings
      if (v !== undefined && !/^(true|false|1|0)$/.test(v))
        ctx.addIssue({ code: 'custom', message: 'must be true or false' });
    }),
    TEMPORAL_API_KEY: optionalString,
    // read as the `temporal` CLI reads them (lib/temporal.ts readTemporalProfile); listed so they are known
    TEMPORAL_PROFILE: optionalString,
    TEMPORAL_CONFIG_FILE: optionalString,
    TEMPORAL_TLS_CLIENT_CERT_PATH: optionalString,
    TEMPORAL_TLS_CLIENT_CERT_DATA: optionalString,
    TEMPORAL_TLS_CLIENT_KEY_PATH: optionalString,
    TEMPORAL_TLS_CLIENT_KEY_DATA: optionalString,
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: optionalString,
    TEMPORAL_TLS_SERVER_CA_CERT_DATA: optionalString,
    TEMPORAL_TLS_SERVER_NAME: optionalString,

    S3_ENDPOINT: optionalString.superRefine((v, ctx) => {
      if (v === undefined || v === 'aws') return;
      try {
        const url = new URL(v);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: 'must be an http(s) URL (versitygw, MinIO, Ceph) or the word aws',
        });
      }
    }),
    S3_BUCKET: optionalString
      .transform((v) => v ?? 'herald')
      .pipe(
        z
          .string()
          .regex(
            /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
            'must be a valid S3 bucket name (3-63 lower-case letters, digits, dots, hyphens)',
          ),
      ),
    S3_REGION: optionalString.transform((v) => v ?? 'us-east-1'),
    S3_ACCESS_KEY_ID: optionalString,
    S3_SECRET_ACCESS_KEY: optionalString,
    S3_FORCE_PATH_STYLE: bool(true),
    S3_SERVER_SIDE_ENCRYPTION: optionalString
      .pipe(z.enum(['AES256', 'aws:kms', 'none']).optional())
      .transform((v) => v ?? 'AES256'),
    S3_SSE_KMS_KEY_ID: optionalString,
    EMBEDDED_S3_PORT: port(7070),

    SMS_PROVIDER: optionalString
      .pipe(z.enum(['outbox', 'twilio']).optional())
      .transform((v) => v ?? 'outbox'),
    VOICE_PROVIDER: optionalString
      .pipe(z.enum(['outbox', 'twilio']).optional())
      .transform((v) => v ?? 'outbox'),
    EMAIL_PROVIDER: optionalString.pipe(z.enum(['outbox', 'ses']).optional()).transform((v) => v ?? 'outbox'),

    TWILIO_ACCOUNT_SID: optionalString.superRefine((v, ctx) => {
      if (v !== undefined && !/^AC[0-9a-fA-F]{32}$/.test(v)) {
        ctx.addIssue({ code: 'custom', message: 'must look like AC followed by 32 hex digits' });
      }
    }),
    TWILIO_AUTH_TOKEN: optionalString,
    TWILIO_FROM_NUMBER: optionalString.superRefine((v, ctx) => {
      if (v !== undefined && !/^\+[1-9]\d{6,14}$/.test(v)) {
        ctx.addIssue({ code: 'custom', message: 'must be an E.164 number such as +15551234567' });
      }
    }),
    TWILIO_MESSAGING_SERVICE_SID: optionalString,
    TWILIO_API_BASE_URL: optionalUrl(['http:', 'https:'], 'http://127.0.0.1:4010'),

    AWS_REGION: optionalString.transform((v) => v ?? 'us-east-1'),
    SES_ENDPOINT: optionalUrl(['http:', 'https:'], 'http://127.0.0.1:8005'),
    SES_FROM_ADDRESS: optionalString.pipe(z.email('must be an email address').optional()),
    SES_CONFIGURATION_SET: optionalString,

    SMS_FALLBACK_PROVIDER: fallbackProvider(['outbox', 'twilio']),
    VOICE_FALLBACK_PROVIDER: fallbackProvider(['outbox', 'twilio']),
    EMAIL_FALLBACK_PROVIDER: fallbackProvider(['outbox', 'ses']),
    TWILIO_MAX_PER_SECOND: positiveNumber(100, 100_000),
    TWILIO_NUMBER_MAX_PER_SECOND: positiveNumber(1, 10_000),
    SES_MAX_PER_SECOND: positiveNumber(14, 100_000),
    SEND_BATCH_SIZE: wholeNumber(100, 1000),
    SEND_RATE_HEADROOM_PERCENT: optionalString.transform((v, ctx) => {
      if (v === undefined) return 3;
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n >= 50) {
        ctx.addIssue({ code: 'custom', message: 'must be a percentage from 0 to below 50' });
        return z.NEVER;
      }
      return n;
    }),
    PROVIDER_TIMEOUT_MS: wholeNumber(15_000, 600_000),
    SEND_HEARTBEAT_TIMEOUT_MS: wholeNumber(30_000, 600_000),
    WORKER_SEND_ACCOUNTS: optionalString.transform((v) => v ?? 'all'),
    WORKER_SEND_BATCHES: wholeNumber(16, 1000),

    PUBLIC_BASE_URL: optionalUrl(['http:', 'https:'], 'https://herald.example.com'),
    INGRESS_PORT: port(8787),
    INGRESS_MAX_CONNECTIONS: wholeNumber(1000, 1_000_000),
    INGRESS_REQUEST_TIMEOUT_MS: wholeNumber(30_000, 600_000),
    SES_SNS_TOPIC_ARNS: optionalString.transform((v) =>
      (v ?? '')
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    ),
    SES_SNS_SECRET: optionalString,
    UNSUBSCRIBE_SECRET: optionalString.superRefine((v, ctx) => {
      if (v !== undefined && v.length < 16)
        ctx.addIssue({ code: 'custom', message: 'must be at least 16 characters' });
    }),

    QUIET_HOURS: optionalString.transform((v, ctx) => {
      if (v === undefined) return DEFAULT_QUIET_WINDOW;
      const window = parseWindowText(v);
      if (!window)
        ctx.addIssue({
          code: 'custom',
          message: 'must be HH:mm-HH:mm with start before end, e.g. 08:00-21:00',
        });
      return window ?? DEFAULT_QUIET_WINDOW;
    }),
    QUIET_HOURS_STATES: optionalString.transform((v, ctx) => {
      const parsed = v === undefined ? {} : parseStateWindowsText(v);
      if (typeof parsed === 'string') {
        ctx.addIssue({ code: 'custom', message: parsed });
        return DEFAULT_STATE_WINDOWS;
      }
      return { ...DEFAULT_STATE_WINDOWS, ...parsed };
    }),
    QUIET_HOURS_NO_SUNDAY_VOICE: bool(false),
    WORKER_TASK_QUEUES: optionalString,
    OPS_PORT: port(9464),
    OPS_HOST: optionalString.transform((v) => v ?? '127.0.0.1'),
    WORKER_HEARTBEAT_THROTTLE_MS: wholeNumber(60_000, 3_600_000),
    WORKFLOW_BUNDLE_PATH: optionalString,
    INGEST_MAX_COLUMNS: wholeNumber(DEFAULT_INGEST_LIMITS.maxColumns, 100_000),
    INGEST_MAX_LINE_CHARS: wholeNumber(DEFAULT_INGEST_LIMITS.maxLineChars, 256 * MiB),
    INGEST_MAX_JSON_DEPTH: wholeNumber(DEFAULT_INGEST_LIMITS.maxJsonDepth, 1000),
    INGEST_MAX_XLSX_SHARED_STRINGS_MB: wholeNumber(DEFAULT_INGEST_LIMITS.maxSharedStringsBytes / MiB, 4096),
    SECRET_ENV_PREFIXES: optionalString.transform((v, ctx) => {
      const prefixes = (v ?? 'HERALD_SECRET_')
        .split(',')
        .map((p) => p.trim())
        .filter(Boolean);
      if (prefixes.length === 0 || prefixes.some((p) => !/^[A-Z][A-Z0-9_]{3,}$/.test(p))) {
        ctx.addIssue({
          code: 'custom',
          message:
            'must be comma-separated prefixes of variable names, each 4 or more of A-Z, 0-9 and _, e.g. HERALD_SECRET_',
        });
        return z.NEVER;
      }
      return prefixes;
    }),
    SOURCE_MAX_FILE_MB: wholeNumber(DEFAULT_SOURCE_MAX_FILE_BYTES / MiB, 10_000_000),
    ARCHIVE_CRON: optionalString
      .transform((v) => v ?? '0 3 * * *')
      .pipe(z.string().regex(/^\S+( \S+){4}$/, 'must be a cron expression of five fields, e.g. "0 3 * * *"')),
    ARCHIVE_BATCH_SIZE: optionalString.transform((v, ctx) => {
      const n = Number(v ?? 500);
      if (Number.isInteger(n) && n >= 1 && n <= 10_000) return n;
      ctx.addIssue({ code: 'custom', message: 'must be a whole number from 1 to 10000' });
      return z.NEVER;
    }),
  })
  .superRefine((env, ctx) => {
    const need = (variable: string, when: string) =>
      ctx.addIssue({ code: 'custom', path: [variable], message: `is required when ${when}` });
    const twilio = env.SMS_PROVIDER === 'twilio' || env.VOICE_PROVIDER === 'twilio';
    const twilioFallback =
      !twilio && (env.SMS_FALLBACK_PROVIDER === 'twilio' || env.VOICE_FALLBACK_PROVIDER === 'twilio');
    if (twilioFallback && !env.TWILIO_ACCOUNT_SID)
      need('TWILIO_ACCOUNT_SID', 'a fallback provider is twilio');
    if (twilioFallback && !env.TWILIO_AUTH_TOKEN) need('TWILIO_AUTH_TOKEN', 'a fallback provider is twilio');
    if (twilio && !env.TWILIO_ACCOUNT_SID)
      need('TWILIO_ACCOUNT_SID', 'SMS_PROVIDER or VOICE_PROVIDER is twilio');
    if (twilio && !env.TWILIO_AUTH_TOKEN)
      need('TWILIO_AUTH_TOKEN', 'SMS_PROVIDER or VOICE_PROVIDER is twilio');
    if (twilio && !env.TWILIO_FROM_NUMBER && !env.TWILIO_MESSAGING_SERVICE_SID) {
      need('TWILIO_FROM_NUMBER', 'Twilio sends and no TWILIO_MESSAGING_SERVICE_SID is set');
    }
    if (env.EMAIL_PROVIDER === 'ses' && !env.SES_FROM_ADDRESS)
      need('SES_FROM_ADDRESS', 'EMAIL_PROVIDER is ses');
    if (env.EMAIL_FALLBACK_PROVIDER === 'ses' && !env.SES_FROM_ADDRESS)
      need('SES_FROM_ADDRESS', 'EMAIL_FALLBACK_PROVIDER is ses');
    // real mail carries unsubscribe links: they must be signed so nobody can unsubscribe someone else
    if ((env.EMAIL_PROVIDER === 'ses' || env.EMAIL_FALLBACK_PROVIDER === 'ses') && !env.UNSUBSCRIBE_SECRET) {
      need('UNSUBSCRIBE_SECRET', 'emails are sent through SES');
    }
    for (const channel of ['SMS', 'VOICE', 'EMAIL'] as const) {
      const fallback = env[`${channel}_FALLBACK_PROVIDER`];
      if (fallback !== undefined && fallback === env[`${channel}_PROVIDER`]) {
        ctx.addIssue({
          code: 'custom',
          path: [`${channel}_FALLBACK_PROVIDER`],
          message: `must differ from ${channel}_PROVIDER (a fallback is another provider)`,
        });
      }
    }
    if (env.S3_SSE_KMS_KEY_ID && env.S3_SERVER_SIDE_ENCRYPTION !== 'aws:kms') {
      ctx.addIssue({
        code: 'custom',
        path: ['S3_SSE_KMS_KEY_ID'],
        message: 'is used only with S3_SERVER_SIDE_ENCRYPTION=aws:kms',
      });
    }
    if (
      env.S3_ENDPOINT &&
      env.S3_ENDPOINT !== 'aws' &&
      (!env.S3_ACCESS_KEY_ID || !env.S3_SECRET_ACCESS_KEY)
    ) {
      need(
        env.S3_ACCESS_KEY_ID ? 'S3_SECRET_ACCESS_KEY' : 'S3_ACCESS_KEY_ID',
        'S3_ENDPOINT points at a server',
      );
    }
  });

export type Env = z.infer<typeof envSchema>;
