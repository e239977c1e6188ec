// Which stored values a packet's blank cells clear: the load map's blankCells setting, over the fields the file has columns for.
import { normalizeHeader } from '../parse';
import type { CanonicalField } from '../../schemas/canonical';
import type { CompiledMap } from '../load-maps/compile';

export interface BlankCellRule {
  /** fields whose blank cell empties the stored value (blankCells: clear); the others keep it */
  clears: ReadonlySet<CanonicalField>;
  /** fields the file has a column for: a field without one never changes what is stored */
  read: ReadonlySet<CanonicalField>;
  /** extra columns' blank cells remove the stored key (contact-only rows) */
  clearsExtras: boolean;
}

/**
 * A field is read when one of its columns is in the file's header (compared as headers are). Without
 * the header (a packet staged before it was kept) every mapped field counts as read.
 */
export function blankCellRule(compiled: CompiledMap, header: readonly string[] | undefined): BlankCellRule {
  const present = header ? new Set(header.map(normalizeHeader)) : undefined;
  const read = new Set<CanonicalField>(
    compiled.fields
      .filter(
        (f) => f.columns.length > 0 && (!present || f.columns.some((c) => present.has(normalizeHeader(c)))),
      )
      .map((f) => f.field),
  );
  const clear = compiled.map.blankCells === 'clear';
  return { clears: clear ? read : new Set(), read, clearsExtras: clear };
}
