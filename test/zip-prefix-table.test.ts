import { describe, expect, it } from 'vitest';
import { setUpDatabase } from '../lib/setup-database';
import { syncZipPrefixes, zipPrefixRows } from '../lib/zip-prefix-table';
import { withScratchDatabase } from './support/scratch-db';
import type { Sql } from '../lib/db';

const tableRows = (sql: Sql) =>
  sql<{ prefix: string; state: string }[]>`select prefix, state from zip_prefixes order by prefix`;

describe('the zip_prefixes table', () => {
  it('holds after set-up exactly the prefixes lib/clean/zip-prefix.ts assigns to states with a region', () =>
    withScratchDatabase(async (sql) => {
      await setUpDatabase(sql);
      const withRegion = new Set(
        (await sql<{ state: string }[]>`select state from region_states`).map((r) => r.state),
      );
      const rows = await tableRows(sql);
      expect(rows).toEqual(zipPrefixRows().filter((r) => withRegion.has(r.state)));
      const state = (prefix: string) => rows.find((r) => r.prefix === prefix)?.state;
      // Oklahoma City is 730-731; 732 is not in use, 733 is the IRS in Austin
      expect([state('730'), state('731'), state('732'), state('733'), state('734')]).toEqual([
        'OK',
        'OK',
        undefined,
        'TX',
        'OK',
      ]);
    }));

  it('follows a change of the table in code, and writes nothing when it already agrees', () =>
    withScratchDatabase(async (sql) => {
      await setUpDatabase(sql);
      expect(await syncZipPrefixes(sql)).toEqual({ written: 0, deleted: 0 });
      const before = await tableRows(sql);
      await sql`insert into zip_prefixes (prefix, state) values ('732', 'OK')`;
      await sql`update zip_prefixes set state = 'RI' where prefix = '021'`;
      expect(await syncZipPrefixes(sql)).toEqual({ written: 1, deleted: 1 });
      expect(await tableRows(sql)).toEqual(before);
    }));
});
