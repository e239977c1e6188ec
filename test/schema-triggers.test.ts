// schemas/README.md lists every trigger the migrations make: a trigger added without a line there fails here.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { PROJECT_ROOT } from '../lib/config';
import { openTestApp } from './support/harness';

let app: App;
beforeAll(async () => {
  app = await openTestApp();
});
afterAll(async () => {
  await app?.close();
});

describe('schemas/README.md', () => {
  it("lists every trigger, with its table, in the triggers' table", async () => {
    const readme = await readFile(path.join(PROJECT_ROOT, 'schemas', 'README.md'), 'utf8');
    const rows = readme
      .slice(readme.indexOf('## Triggers'))
      .split('\n')
      .filter((l) => l.startsWith('| `'));
    const triggers = await app.sql<{ name: string; table: string }[]>`
      select t.tgname as name, c.relname as table from pg_trigger t join pg_class c on c.oid = t.tgrelid
      join pg_namespace n on n.oid = c.relnamespace
      where not t.tgisinternal and n.nspname = current_schema() order by 2, 1`;
    expect(triggers.length).toBeGreaterThan(50);
    const unlisted = triggers.filter(({ name, table }) => {
      const generic =
        name === `${table}_audit`
          ? '<table>_audit'
          : name === `${table}_updated_at`
            ? '<table>_updated_at'
            : null;
      // a trigger with a row of its own is listed there, even when its name fits a generic row
      const row =
        rows.find((r) => r.includes(`\`${name}\``)) ??
        (generic ? rows.find((r) => r.includes(`\`${generic}\``)) : undefined);
      return !row || !row.includes(`\`${table}\``);
    });
    expect(unlisted).toEqual([]);
    // and nothing listed that the schema no longer has
    const named = rows.flatMap((r) => [...r.split('|')[1]!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!));
    expect(named.filter((n) => !triggers.some((t) => t.name === n))).toEqual([]);
  });
});
