// Proposes a load map for an export from its header and a sample of rows: each column matched to a field, with a confidence and the evidence.
import type { CellValue } from '../../parse';
import type { CanonicalField } from '../../../schemas/canonical';
import type { LoadMapInput } from '../../../schemas/load-map';
import { assignFields, type Assignment } from './assign';
import { describeContent, type ColumnContent } from './column-content';
import { CONFIDENCE_THRESHOLD, scoreColumn } from './score';

export { CONFIDENCE_THRESHOLD } from './score';
export type { Assignment } from './assign';

export interface SuggestInput {
  /** the map's name */
  name: string;
  company?: string;
  headers: readonly string[];
  /** the sample: the first rows of the file, by header */
  rows: readonly Record<string, CellValue>[];
  format: { kind: 'csv' | 'xlsx' | 'json' | 'ndjson'; delimiter?: string; sheet?: string };
  source?: string;
}

export interface Suggestion {
  map: LoadMapInput;
  columns: Assignment[];
  threshold: number;
  /** what the map still needs that no column gave (first_name, last_name, a phone or email, the date) */
  missing: string[];
}

const DATE_WORDS = /^(YYYY|MM|M\/|DD|D\/)/;

function rulesFor(
  field: CanonicalField,
  content: ColumnContent,
  hasTimeColumn: boolean,
): Record<string, unknown>[] {
  const dateFormats = content.formats.filter((f) => DATE_WORDS.test(f) || f === 'ISO' || f === 'excel');
  const timeFormats = content.formats.filter((f) => !DATE_WORDS.test(f) && f !== 'ISO');
  const withFormats = (rule: string, formats: string[]) => ({ rule, ...(formats.length ? { formats } : {}) });
  switch (field) {
    case 'first_name':
    case 'middle_name':
    case 'provider':
      return [{ rule: 'name' }];
    case 'last_name':
      return [{ rule: 'name', part: 'family' }];
    case 'phone':
      return [{ rule: 'phone' }];
    case 'email':
      return [{ rule: 'email', onInvalid: 'blank' }];
    case 'zip':
      return [{ rule: 'zip' }];
    case 'state':
      return [{ rule: 'state' }];
    case 'appointment_date':
      // a date column goes with the time column; a column holding both is read as one date-time
      return hasTimeColumn || content.shares.dateTime < 0.5
        ? [withFormats('date', dateFormats)]
        : [withFormats('datetime', [...new Set([...dateFormats, ...timeFormats])])];
    case 'appointment_time':
      return [withFormats('time', timeFormats)];
    default:
      return [];
  }
}

export function suggestLoadMap(input: SuggestInput): Suggestion {
  const headers = input.headers.filter((h) => h !== '');
  const contents = new Map<string, ColumnContent>(
    headers.map((h) => [h, describeContent(input.rows.map((r) => r[h] ?? null))]),
  );
  const columns = assignFields(headers.map((h) => scoreColumn(h, contents.get(h)!)));
  const byField = new Map<CanonicalField, Assignment[]>();
  for (const a of columns) if (a.field) byField.set(a.field, [...(byField.get(a.field) ?? []), a]);
  for (const list of byField.values()) list.sort((a, b) => b.rank - a.rank || b.confidence - a.confidence);

  const hasTimeColumn = byField.has('appointment_time');
  const fields: Record<string, unknown> = {};
  for (const [field, list] of byField) {
    const names = list.map((a) => a.column);
    const rules = rulesFor(field, contents.get(names[0]!)!, hasTimeColumn);
    fields[field] = {
      column: names.length === 1 ? names[0] : names,
      ...(['first_name', 'last_name', 'appointment_date', 'appointment_time'].includes(field)
        ? { required: true }
        : {}),
      ...(rules.length ? { rules } : {}),
    };
  }
  const contactKey: CanonicalField[] = byField.has('external_id')
    ? ['external_id']
    : ['first_name', 'last_name', byField.has('phone') ? 'phone' : 'email'];
  if (byField.has('external_id')) (fields.external_id as Record<string, unknown>).required = true;
  const missing = [
    ...(['first_name', 'last_name', 'appointment_date'] as const).filter((f) => !byField.has(f)),
    ...(!byField.has('phone') && !byField.has('email') ? ['phone or email'] : []),
  ];
  const map: LoadMapInput = {
    name: input.name,
    ...(input.company ? { company: input.company } : {}),
    description: `suggested by herald loadmap suggest${input.source ? ` from ${input.source}` : ''}; check it before use`,
    format: {
      kind: input.format.kind,
      encoding: 'auto',
      ...(input.format.delimiter && input.format.delimiter !== ','
        ? { delimiter: input.format.delimiter as ',' }
        : {}),
      ...(input.format.sheet ? { sheet: input.format.sheet } : {}),
    },
    defaultCountry: 'US',
    fields: fields as LoadMapInput['fields'],
    keepUnmapped: true,
    header: headers,
    dedupe: {
      contact: contactKey,
      ...(byField.has('appointment_id') ? { appointment: ['appointment_id'] } : {}),
    },
  };
  return { map, columns, threshold: CONFIDENCE_THRESHOLD, missing };
}
