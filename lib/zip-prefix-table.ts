// Keeps the zip_prefixes table (read by the merge in SQL) in step with ZIP_PREFIX_RANGES, the one source of ZIP prefixes.
import { ZIP_PREFIX_RANGES } from './clean/zip-prefix';
import type { Sql } from './db';

/** arbitrary constant: serialises processes that start at once and sync the same rows */
const ZIP_PREFIX_SYNC_LOCK = 727_002;

/** Every three-digit prefix with its state, as lib/clean/zip-prefix.ts assigns it. */
export function zipPrefixRows(): { prefix: string; state: string }[] {
  return ZIP_PREFIX_RANGES.flatMap(({ from, to, state }) =>
    Array.from({ length: to - from + 1 }, (_, i) => ({ prefix: String(from + i).padStart(3, '0'), state })),
  );
}

export interface ZipPrefixSync {
  written: number;
  deleted: number;
}

/**
 * Makes zip_prefixes hold exactly the prefixes of states that have a region_states row (its foreign
 * key; the military codes have none, so their prefixes stay out and such contacts stay unassigned).
 * Writes nothing when the table already agrees, so every process may run it at start.
 */
export async function syncZipPrefixes(sql: Sql): Promise<ZipPrefixSync> {
  const rows = zipPrefixRows();
  const prefixes = rows.map((r) => r.prefix);
  const states = rows.map((r) => r.state);
  return (await sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${ZIP_PREFIX_SYNC_LOCK})`;
    const [result] = await tx<{ written: number; deleted: number }[]>`
      with wanted as (
        select w.prefix, w.state
        from unnest(${prefixes}::text[], ${states}::text[]) as w(prefix, state)
        where w.state in (select state from region_states)
      ), deleted as (
        delete from zip_prefixes z where not exists (select from wanted w where w.prefix = z.prefix)
        returning 1
      ), written as (
        insert into zip_prefixes (prefix, state) select prefix, state from wanted
        on conflict (prefix) do update set state = excluded.state where zip_prefixes.state <> excluded.state
        returning 1
      )
      select (select count(*) from written)::int as written, (select count(*) from deleted)::int as deleted`;
    return result!;
  })) as ZipPrefixSync;
}
