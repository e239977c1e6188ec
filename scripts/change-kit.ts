// Shared shape of the CLI commands that change configuration: --json, --dry-run, --yes, and the audit rows they write.
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import type { App } from '../lib/app';
import { withActor, type TransactionSql } from '../lib/db';
import { UsageError } from './cli-kit';

export interface ChangeFlags {
  json?: boolean;
  dryRun?: boolean;
  yes?: boolean;
}

/** One row the audit trigger wrote for the change, with only the columns that changed. */
export interface AuditChange {
  table: string;
  action: 'insert' | 'update' | 'delete';
  rowId: number | null;
  changes: Record<string, { before: unknown; after: unknown }>;
}

export interface ChangeOutcome<T> {
  applied: boolean;
  dryRun: boolean;
  actor: string;
  result: T;
  audit: AuditChange[];
}

export interface ChangeSpec<T> {
  /**
   * Says why the change needs a confirmation (it removes or overwrites something), from the audit rows
   * it would write; undefined when it needs none.
   */
  destructive?: (audit: readonly AuditChange[], result: T) => string | undefined;
}

/** Adds --dry-run and --json, and --yes when the command can be destructive. */
export function changeFlags(command: Command, opts: { confirms?: boolean } = {}): Command {
  command
    .option('--dry-run', 'show what would change (the audit rows it would write); change nothing')
    .option('--json', 'print as JSON');
  if (opts.confirms) command.option('-y, --yes', 'do it without asking (for scripts)');
  return command;
}

class RolledBack<T> extends Error {
  constructor(readonly value: { result: T; audit: AuditChange[] }) {
    super('rolled back');
  }
}

// Columns every audited row has that say nothing about the change itself.
const NOISE = new Set(['id', 'uuid', 'created_at', 'updated_at']);

interface AuditRow {
  table_name: string;
  action: AuditChange['action'];
  row_id: number | null;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
}

function toChange(row: AuditRow): AuditChange {
  const keys = new Set([...Object.keys(row.before ?? {}), ...Object.keys(row.after ?? {})]);
  const changes: AuditChange['changes'] = {};
  for (const key of keys) {
    if (NOISE.has(key)) continue;
    const before = row.before?.[key] ?? null;
    const after = row.after?.[key] ?? null;
    if (row.action === 'update' && JSON.stringify(before) === JSON.stringify(after)) continue;
    if (row.action !== 'update' && before === null && after === null) continue;
    changes[key] = { before, after };
  }
  return { table: row.table_name, action: row.action, rowId: row.row_id, changes };
}

/** Runs the change in one transaction under the operator's name; the audit rows it wrote come back with it. */
async function runChange<T>(
  app: App,
  change: (tx: TransactionSql) => Promise<T>,
  rollback: boolean,
): Promise<{ result: T; audit: AuditChange[] }> {
  try {
    return await withActor(app.sql, app.config.actor, async (tx) => {
      const result = await change(tx);
      // the trigger's rows of this transaction: its own xmin (no savepoints are used here)
      const rows = await tx<AuditRow[]>`
        select table_name, action, row_id, before, after from audit_log
        where xmin = (pg_current_xact_id()::text::bigint % 4294967296)::text::xid
        order by id`;
      const outcome = { result, audit: rows.map(toChange) };
      if (rollback) throw new RolledBack(outcome);
      return outcome;
    });
  } catch (err) {
    if (err instanceof RolledBack) return err.value as { result: T; audit: AuditChange[] };
    throw err;
  }
}

/** Asks on stderr and reads one line from stdin: "y" or "yes" goes ahead; anything else, or no input, does not. */
async function confirm(question: string): Promise<boolean> {
  process.stderr.write(`${question} [y/N] `);
  const lines = createInterface({ input: process.stdin, terminal: false });
  const answer = await new Promise<string>((resolve) => {
    lines.once('line', resolve);
    lines.once('close', () => resolve(''));
  });
  lines.close();
  process.stderr.write('\n');
  return /^\s*y(es)?\s*$/i.test(answer);
}

/**
 * Makes a configuration change the way every admin command does: --dry-run runs it and rolls it back,
 * showing the audit rows it would write; a destructive change is shown and confirmed first unless
 * --yes; otherwise it is applied once. The audit trigger records the operator (HERALD_ACTOR).
 */
export async function makeChange<T>(
  app: App,
  flags: ChangeFlags,
  change: (tx: TransactionSql) => Promise<T>,
  spec: ChangeSpec<NoInfer<T>> = {},
): Promise<ChangeOutcome<T>> {
  const actor = app.config.actor;
  if (flags.dryRun) return { applied: false, dryRun: true, actor, ...(await runChange(app, change, true)) };
  if (spec.destructive && !flags.yes) {
    const planned = await runChange(app, change, true);
    const reason = spec.destructive(planned.audit, planned.result);
    if (reason) {
      for (const line of describeAudit(planned.audit)) process.stderr.write(`${line}\n`);
      if (!(await confirm(`${reason}. Go ahead?`)))
        throw new UsageError(
          `not confirmed (${reason}); nothing was changed. Add --yes to skip the question`,
        );
    }
  }
  return { applied: true, dryRun: false, actor, ...(await runChange(app, change, false)) };
}

/** A change overwrites or removes: a deleted row, or an update that replaces a value that was set. */
export function overwrites(audit: readonly AuditChange[], tables?: readonly string[]): string | undefined {
  const mine = audit.filter((a) => !tables || tables.includes(a.table));
  const deleted = mine.filter((a) => a.action === 'delete');
  if (deleted.length) return `this removes ${deleted.length} ${deleted[0]!.table} row(s)`;
  const replaced = mine.flatMap((a) =>
    a.action === 'update'
      ? Object.entries(a.changes)
          .filter(([, c]) => c.before !== null && c.before !== '')
          .map(([key]) => `${a.table}.${key}`)
      : [],
  );
  return replaced.length ? `this replaces ${replaced.join(', ')}` : undefined;
}

const shown = (value: unknown): string => {
  const text = JSON.stringify(value);
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
};

/** The audit rows as lines: `+` inserted, `~` updated (before -> after), `-` deleted. */
export function describeAudit(audit: readonly AuditChange[]): string[] {
  return audit.map((a) => {
    const sign = a.action === 'insert' ? '+' : a.action === 'delete' ? '-' : '~';
    const parts = Object.entries(a.changes).map(([key, c]) =>
      a.action === 'update'
        ? `${key} ${shown(c.before)} -> ${shown(c.after)}`
        : `${key}=${shown(a.action === 'delete' ? c.before : c.after)}`,
    );
    return `  ${sign} ${a.table}${a.rowId === null ? '' : ` ${a.rowId}`}: ${parts.join(', ') || '(no change)'}`;
  });
}

/**
 * Prints a change's outcome: --json as one object; text as the command's own lines, then what was (or
 * would be) written to the audit log and under whose name.
 */
export function printChange<T>(
  flags: ChangeFlags,
  outcome: ChangeOutcome<T>,
  describe: (result: T) => string[],
): void {
  if (flags.json) {
    const { result, ...rest } = outcome;
    process.stdout.write(JSON.stringify({ ...rest, ...(result as object) }, null, 2) + '\n');
    return;
  }
  const lines = [
    ...(outcome.dryRun ? ['dry run: nothing was changed; this would be done:'] : []),
    ...describe(outcome.result),
    outcome.audit.length === 0
      ? 'no change: everything was already so'
      : outcome.dryRun
        ? `would be audited as ${outcome.actor}:`
        : `audited as ${outcome.actor}:`,
    ...describeAudit(outcome.audit),
  ];
  for (const line of lines) process.stdout.write(line + '\n');
}
