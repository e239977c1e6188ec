// The checks that hold a packet for an operator instead of loading it: a drifted header, garbled text.
import { repairGarbledText } from '../clean';
import { IngestProblem } from './errors';
import { compareHeader, describeDrift, type HeaderDrift } from './header-drift';
import type { PacketContext } from './packet-context';
import type { StagedRow } from './staged-row';

/** What an operator said when releasing a held packet (`herald packets release --as-is`). */
export interface PacketAcceptance {
  /** load it with the header it has, new columns as extras */
  drift?: boolean;
  /** load it with its text as it is */
  garbledText?: boolean;
}

function acceptanceOf(context: PacketContext): PacketAcceptance {
  return (context.packet.metadata?.accepted as PacketAcceptance | undefined) ?? {};
}

function howToRelease(context: PacketContext, asIs: string): string {
  const id = context.packet.uuid;
  return (
    `The packet is held: record the file's shape as a new version of the load map (herald loadmap suggest --packet ${id} ` +
    `--company ${context.company.alias} --out map.json; check it; herald loadmap add map.json), then ` +
    `herald packets release ${id}; or ${asIs} with herald packets release ${id} --as-is`
  );
}

/**
 * The file's header against the map, by the source's drift setting: `hold` holds any difference,
 * `evolve` loads (new columns become extras) unless a required column is gone. Uploads have no
 * setting: they load what they can (a missing required column fails them, as it always did). The
 * drift is returned for the packet's log when the packet loads anyway.
 */
export function checkHeaderDrift(context: PacketContext, header: readonly string[]): HeaderDrift | undefined {
  const compiled = context.loadMap.compiled;
  const drift = compareHeader(compiled, header);
  const policy = context.source?.onDrift;
  if (!drift || !policy || acceptanceOf(context).drift) return drift;
  if (policy === 'hold' || drift.blocksLoad) {
    const label = `${context.loadMap.name} v${context.loadMap.version}`;
    throw new IngestProblem(
      'HeaderDrift',
      `${describeDrift(drift, label)}. ${howToRelease(context, 'load it as it is (new columns kept as extras)')}`,
      { drift, header: [...header] },
    );
  }
  return drift;
}

export interface GarbledText {
  rows: number;
  examples: { row: number; field: string; text: string; meant: string }[];
}

const CHECKED: readonly (keyof StagedRow & string)[] = [
  'firstName',
  'lastName',
  'middleName',
  'provider',
  'location',
];
const FIELD_NAMES: Record<string, string> = {
  firstName: 'first_name',
  lastName: 'last_name',
  middleName: 'middle_name',
  provider: 'provider',
  location: 'location',
};

/**
 * Watches the names of a packet's rows for UTF-8 read as Windows-1252 ("JosÃ©"). With the source set to
 * hold such text, the first one found holds the packet; otherwise they are counted for a warning.
 */
export function watchGarbledText(context: PacketContext) {
  const hold = context.source?.onGarbledText === 'hold' && !acceptanceOf(context).garbledText;
  const found: GarbledText = { rows: 0, examples: [] };
  return {
    found,
    check(row: StagedRow): void {
      let seen = false;
      for (const key of CHECKED) {
        const text = row[key] as string | null;
        if (!text) continue;
        const meant = repairGarbledText(text);
        if (meant === undefined) continue;
        if (hold)
          throw new IngestProblem(
            'GarbledText',
            `row ${row.rowNumber}, ${FIELD_NAMES[key]}: ${JSON.stringify(text)} looks like UTF-8 read as Windows-1252 (${JSON.stringify(meant)}). ${garbledCause(context)}. ${howToRelease(context, 'load the text as it is')}`,
            { row: row.rowNumber, field: FIELD_NAMES[key] },
          );
        if (found.examples.length < 5)
          found.examples.push({ row: row.rowNumber, field: FIELD_NAMES[key]!, text, meant });
        seen = true;
      }
      if (seen) found.rows += 1;
    },
  };
}

/** Where the garbling most likely happened, so the operator knows what to change. */
export function garbledCause(context: PacketContext): string {
  return context.loadMap.compiled.map.format.encoding === 'windows-1252'
    ? 'The file looks like UTF-8 while the load map reads it as windows-1252: set its "encoding" to "utf-8" (or "auto")'
    : 'The text was garbled before the file reached herald (the exporting system read UTF-8 as Windows-1252); ask for a UTF-8 export';
}

export function describeGarbledText(g: GarbledText): string {
  const first = g.examples[0]!;
  return `${g.rows} row(s) have text that looks like UTF-8 read as Windows-1252, e.g. row ${first.row}, ${first.field}: ${JSON.stringify(first.text)} (${JSON.stringify(first.meant)})`;
}
