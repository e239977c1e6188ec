// pino loggers that never write personal data: JSON for machines, pretty when a person is watching.
import type { DestinationStream } from 'pino';
import { pino, type Logger } from 'pino';
import { scrub } from './log-redaction';

export type { Logger };

export function createLogger(opts: {
  level: string;
  pretty?: boolean;
  base?: Record<string, unknown>;
  /** where lines go instead of stdout (a file, a buffer) */
  destination?: DestinationStream;
}): Logger {
  const pretty =
    !opts.destination && (opts.pretty ?? (process.stdout.isTTY === true && process.env.CI !== 'true'));
  return pino(
    {
      level: opts.level,
      base: opts.base ?? { app: 'herald' },
      // every object logged, at any depth, through one scrubber: personal keys redacted, errors reduced
      // to their type, codes and a masked message (see lib/log-redaction); pino's own error serializer
      // would write a database error's detail, which quotes the row
      serializers: { err: (err: unknown) => scrub(err) },
      formatters: { log: (object) => scrub(object) as Record<string, unknown> },
      transport: pretty
        ? {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,app' },
          }
        : undefined,
    },
    opts.destination,
  );
}
