// Shared pieces of the operator CLI: exit codes, output as text or --json, opening the app per command.
import { openApp, type App, type OpenOptions } from '../lib/app';
import { ConfigError, loadConfig } from '../lib/config';
import { createLogger } from '../lib/log';

export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** A problem the person can fix with the command line: printed without a stack, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function print(json: boolean, value: unknown, text: () => string[]): void {
  if (json) process.stdout.write(JSON.stringify(value, null, 2) + '\n');
  else for (const line of text()) process.stdout.write(line + '\n');
}

/** The company an alias names, or a usage error saying there is none. */
export async function companyByAlias(
  app: App,
  alias: string,
): Promise<{ id: number; alias: string; timezone: string }> {
  const [company] = await app.sql<{ id: number; alias: string; timezone: string }[]>`
    select id, alias, timezone from companies where alias = ${alias}`;
  if (!company) throw new UsageError(`no company has the alias "${alias}" (see herald companies list)`);
  return company;
}

/** Runs one command with an opened app, closing it and mapping errors to exit codes. */
export async function withApp(opts: OpenOptions, fn: (app: App) => Promise<number | void>): Promise<never> {
  let code: number = EXIT.ok;
  let app: App | undefined;
  try {
    const config = loadConfig();
    app = await openApp({
      config,
      log: createLogger({ level: config.logLevel ?? 'warn' }),
      notice: (m) => process.stderr.write(m + '\n'),
      ...opts,
    });
    code = (await fn(app)) ?? EXIT.ok;
  } catch (err) {
    code = err instanceof UsageError || err instanceof ConfigError ? EXIT.usage : EXIT.failed;
    process.stderr.write(`herald: ${(err as Error).message}\n`);
  } finally {
    await app?.close().catch(() => {});
  }
  process.exit(code);
}
