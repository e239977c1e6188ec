// pino loggers with personal data redacted: JSON for machines, pretty when a person is watching.
import { pino, type Logger } from 'pino';

export type { Logger };

/** Keys whose values are personal data wherever they appear in a log object. */
const PERSONAL_KEYS = [
  'phone',
  'phone_e164',
  'phoneNumber',
  'to',
  'from',
  'email',
  'emailAddress',
  'first_name',
  'last_name',
  'firstName',
  'lastName',
  'name',
  'password',
  'authToken',
  'secretAccessKey',
  'body',
  'raw',
  'values',
  'row',
];

export const REDACT_PATHS = PERSONAL_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`]);

export function createLogger(opts: {
  level: string;
  pretty?: boolean;
  base?: Record<string, unknown>;
}): Logger {
  const pretty = opts.pretty ?? (process.stdout.isTTY === true && process.env.CI !== 'true');
  return pino({
    level: opts.level,
    base: opts.base ?? { app: 'herald' },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    transport: pretty
      ? {
          target: 'pino-pretty',
          options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,app' },
        }
      : undefined,
  });
}
