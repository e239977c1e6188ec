import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { stateForZip } from '../lib/clean/zip-prefix';
import { STATE_TIMEZONES } from '../lib/clean/us-timezones';
import { US_STATES, type StateCode } from '../lib/clean/us-states';
import type { Sql } from '../lib/db';
import { mergePacketRows } from '../lib/ingest/merge';
import { loadPacketContext } from '../lib/ingest/packet-context';
import { stageRows } from '../lib/ingest/stage-rows';
import { registerPacket } from '../lib/packets';
import { setUpDatabase } from '../lib/setup-database';
import { csv, daysFromNow, EHR_HEADER, EHR_MAP } from './support/ingest';
import { withScratchDatabase } from './support/scratch-db';

// lib/clean/zip-prefix.ts is herald's one ZIP table: cleaning, quiet hours and the merge's regions all
// read it, so a contact's state and region follow whatever the code says, exceptions included.

/** Stages and merges one row per ZIP (no state given), returning each contact's state, region and reason. */
async function mergeZips(sql: Sql, zips: string[]) {
  const [company] = await sql<{ id: number }[]>`
    insert into companies (alias, name) values ('zips', 'ZIP Clinic') returning id`;
  const [map] = await sql<{ id: number }[]>`
    insert into company_load_maps (company_id, name, version, load_map)
    values (${company!.id}, ${EHR_MAP.name}, 1, ${sql.json(EHR_MAP as never)}) returning id`;
  const { packet } = await registerPacket(
    sql,
    { companyId: company!.id, loadMapId: map!.id, dedupeKey: 'zips', objectKey: 'raw/zips.csv' },
    'test',
  );
  const rows = zips.map((zip, i) => [
    `Z${i}`,
    'Ann',
    `Lee${i}`,
    `617555010${i}`,
    '',
    '',
    daysFromNow(9),
    '10:00',
    `A${i}`,
    '',
    '',
    '',
    zip,
    '',
    '',
  ]);
  const context = await loadPacketContext(sql, packet.uuid);
  const staged = await stageRows({
    sql,
    context,
    input: Readable.from([csv(EHR_HEADER, rows)]),
    onProgress: () => {},
  });
  expect(staged).toMatchObject({ staged: zips.length, rejected: 0 });
  await mergePacketRows(sql, context);
  return sql<{ zip: string; state: string | null; region: string; region_reason: string | null }[]>`
    select zip, state, region, region_reason from contacts where company_id = ${company!.id} order by external_id`;
}

describe("a contact's state and region from its ZIP", () => {
  it('are what lib/clean/zip-prefix.ts says, five-digit exceptions and states without a region included', () =>
    withScratchDatabase(async (sql) => {
      await setUpDatabase(sql);
      // Boston; Fishers Island, NY (prefix 063 is Connecticut's); American Samoa and Saipan (prefixes
      // 967 and 969 are Hawaii's and Guam's); an Army post abroad (AE: no region)
      const zips = ['02110', '06390', '96799', '96950', '09012'];
      const contacts = await mergeZips(sql, zips);
      const regionOf = new Map(
        (
          await sql<{ state: string; region_code: string }[]>`select state, region_code from region_states`
        ).map((r) => [r.state.trim(), r.region_code]),
      );
      expect(contacts.map((c) => [c.zip, c.state?.trim() ?? null, c.region])).toEqual(
        zips.map((zip) => {
          const state = stateForZip(zip) ?? null;
          return [zip, state, (state && regionOf.get(state)) ?? 'unassigned'];
        }),
      );
      expect(contacts.map((c) => c.state?.trim())).toEqual(['MA', 'NY', 'AS', 'MP', 'AE']);
      expect(contacts[2]!.region_reason).toBe('ZIP 96799 is in AS, which belongs to no active region');
    }));

  it('come from region_states rows whose names and zones are the ones lib/clean gives their states', () =>
    withScratchDatabase(async (sql) => {
      await setUpDatabase(sql);
      const seeded = await sql<{ state: string; name: string; timezone: string }[]>`
        select state, name, timezone from region_states order by state`;
      expect(seeded.length).toBeGreaterThan(50);
      expect(seeded.map((r) => [r.state, r.name, r.timezone])).toEqual(
        seeded.map(({ state }) => [
          state,
          US_STATES[state as StateCode],
          STATE_TIMEZONES[state as StateCode],
        ]),
      );
    }));
});
