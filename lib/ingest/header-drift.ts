// A file's header against its load map: which columns are new and which are missing (the drift contract).
import { normalizeHeader } from '../parse';
import type { CompiledMap } from '../load-maps/compile';

export interface HeaderDrift {
  /** columns the file has that the map was not made for */
  added: string[];
  /** columns the map expects that the file lacks, each with the field it fills (if any) */
  missing: { column: string; field: string | null }[];
  /** a required field none of whose columns is in the file: the packet cannot load as it is */
  blocksLoad: boolean;
}

/**
 * With the header the map was made for (`header`, written by `loadmap suggest`), any new or missing
 * column is drift. Without it only a required field none of whose columns the file has is missing.
 */
export function compareHeader(compiled: CompiledMap, found: readonly string[]): HeaderDrift | undefined {
  const present = new Set(found.map(normalizeHeader));
  const fieldOf = new Map<string, string>();
  for (const f of compiled.fields) for (const c of f.columns) fieldOf.set(normalizeHeader(c), f.field);
  const blocksLoad = compiled.fields.some(
    (f) =>
      f.required &&
      f.defaultValue === undefined &&
      f.columns.length > 0 &&
      !f.columns.some((c) => present.has(normalizeHeader(c))),
  );
  let added: string[] = [];
  let missing: HeaderDrift['missing'];
  const expected = compiled.map.header;
  if (expected) {
    const wanted = new Set(expected.map(normalizeHeader));
    added = found.filter((h) => h !== '' && !wanted.has(normalizeHeader(h)));
    missing = expected
      .filter((h) => !present.has(normalizeHeader(h)))
      .map((column) => ({ column, field: fieldOf.get(normalizeHeader(column)) ?? null }));
  } else {
    // only a required column is known to be expected: an optional one may be left out of some files
    // (JSON feeds leave out empty keys), and new columns cannot be told from the extras it always had
    missing = compiled.fields
      .filter(
        (f) =>
          f.required &&
          f.defaultValue === undefined &&
          f.columns.length > 0 &&
          !f.columns.some((c) => present.has(normalizeHeader(c))),
      )
      .map((f) => ({ column: f.columns[0]!, field: f.field }));
  }
  return added.length || missing.length ? { added, missing, blocksLoad } : undefined;
}

export function describeDrift(drift: HeaderDrift, mapLabel: string): string {
  const parts = [
    ...(drift.added.length ? [`new columns ${drift.added.map((c) => JSON.stringify(c)).join(', ')}`] : []),
    ...(drift.missing.length
      ? [
          `missing columns ${drift.missing
            .map((m) => `${JSON.stringify(m.column)}${m.field ? ` (${m.field})` : ''}`)
            .join(', ')}`,
        ]
      : []),
  ];
  return `the file's header differs from load map ${mapLabel}: ${parts.join('; ')}`;
}
