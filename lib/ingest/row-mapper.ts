// Applies a compiled load map to parsed rows: columns, defaults, cleaning, time zones, required fields, keys.
import { isValidTimezone, stateForZip, timezoneForPhone, type RuleContext } from '../clean';
import { matchColumns, type CellValue, type ExpectedColumn, type ParsedRow } from '../parse';
import type { CanonicalField } from '../../schemas/canonical';
import { readAppointmentInstant, normalizeAppointmentStatus } from './appointment-time';
import type { CompiledField, CompiledMap } from '../load-maps/compile';
import { IngestProblem } from './errors';
import type { StagedRow } from './staged-row';
import { storableText, unstorableText } from './storable-text';

export interface Reject {
  rowNumber: number;
  column: string | null;
  rawValue: string | null;
  reason: string;
}

export type MappedRow = { ok: true; row: StagedRow } | { ok: false; rejects: Reject[] };

export interface MapperContext {
  companyTimezone: string;
  /** a location's own zone, by its name or external id as the file writes them */
  locationTimezone(location: string | null, locationId: string | null): string | undefined;
}

interface BoundField extends CompiledField {
  /** the file's headers for this field, in the map's order of preference */
  headers: string[];
}

export type RowMapper = (row: ParsedRow) => MappedRow;

const KEY_SEPARATOR = '\u001f';

/** What the contacts table accepts in these columns (its check constraints and types). */
const COLUMN_SHAPES: [CanonicalField, RegExp][] = [
  ['phone', /^\+[1-9][0-9]{6,14}$/],
  ['state', /^[A-Z]{2}$/],
];

export function rawText(value: CellValue | undefined): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : String(value);
}

/**
 * Matches the map's columns to the file's headers; a required field with no column present fails the
 * packet at once, listing the columns the file has and those the map expects.
 */
export function bindMapper(
  compiled: CompiledMap,
  headers: readonly string[],
  context: MapperContext,
): RowMapper {
  const expected: ExpectedColumn[] = compiled.fields.flatMap((f) =>
    f.columns.map((column, i) => ({ field: `${f.field}#${i}`, column })),
  );
  const match = matchColumns(headers, expected);
  // the alternatives were matched as "field#i"; a person reads the field's own name
  if (!match.ok) throw new IngestProblem('BadFile', match.reason.replace(/\b([a-z_]+)#\d+/g, '$1'));
  const bound: BoundField[] = compiled.fields.map((f) => ({
    ...f,
    headers: f.columns.flatMap((_, i) => match.mapping[`${f.field}#${i}`] ?? []),
  }));
  const missing = bound.filter((f) => f.required && f.defaultValue === undefined && f.headers.length === 0);
  const reachable = (field: CanonicalField) =>
    bound.some((f) => f.field === field && (f.headers.length > 0 || f.defaultValue !== undefined));
  const noPhoneOrEmail = !reachable('phone') && !reachable('email');
  if (missing.length > 0 || noPhoneOrEmail) {
    const want = (f: BoundField) => `${f.field} (${f.columns.map((c) => JSON.stringify(c)).join(' or ')})`;
    const lacking = missing.map(want);
    if (noPhoneOrEmail)
      lacking.push(
        `phone or email (${bound
          .filter((f) => f.field === 'phone' || f.field === 'email')
          .map(want)
          .join(', ')})`,
      );
    const found = headers.filter((h) => h !== '');
    throw new IngestProblem(
      'MissingColumns',
      `the file lacks required columns: ${lacking.join('; ')}. The file's columns are: ${found.map((h) => JSON.stringify(h)).join(', ') || '(none)'}`,
      { found, expected: bound.map((f) => ({ field: f.field, columns: f.columns, required: f.required })) },
    );
  }
  const used = new Set(bound.flatMap((f) => f.headers));
  const extras = compiled.map.keepUnmapped ? headers.filter((h) => h !== '' && !used.has(h)) : [];
  // the unmapped columns' headers become keys of each contact's data
  const badHeader = extras.find((h) => unstorableText(h) !== undefined);
  if (badHeader !== undefined)
    throw new IngestProblem(
      'BadFile',
      `the header of column ${headers.indexOf(badHeader) + 1} (${JSON.stringify(storableText(badHeader))}): ${unstorableText(badHeader)}`,
    );
  const at: Partial<Record<CanonicalField, number>> = {};
  bound.forEach((f, i) => (at[f.field] = i));
  const rules: RuleContext = { defaultCountry: compiled.map.defaultCountry };
  return (row) => mapRow(row, compiled, bound, at, extras, context, rules);
}

const isBlankCell = (value: CellValue | undefined): value is null | undefined | '' =>
  value === null || value === undefined || (typeof value === 'string' && value.trim() === '');

/**
 * Maps one row. Written for millions of rows: per-field state lives in arrays indexed like `bound` and
 * nothing is allocated for a field that cleans without trouble.
 */
function mapRow(
  row: ParsedRow,
  compiled: CompiledMap,
  bound: BoundField[],
  at: Partial<Record<CanonicalField, number>>,
  extras: string[],
  context: MapperContext,
  rules: RuleContext,
): MappedRow {
  const n = bound.length;
  const rawValues: CellValue[] = new Array<CellValue>(n);
  const columns: (string | null)[] = new Array<string | null>(n);
  const out: (string | null)[] = new Array<string | null>(n).fill(null);
  let failed = 0;
  let rejects: Reject[] | undefined;
  // No closures here: tsx names every function it creates (a defineProperty call), and a closure made
  // per row was ~4% of staging's CPU. A reject sets its field's bit in `failed` before it is recorded.
  const dateIndex = at.appointment_date ?? -1;
  for (let i = 0; i < n; i += 1) {
    const f = bound[i]!;
    // the first non-blank of the field's columns, else its default
    let picked: CellValue = null;
    let column: string | null = null;
    for (const header of f.headers) {
      const cell = row.values[header];
      if (!isBlankCell(cell)) {
        picked = cell;
        column = header;
        break;
      }
    }
    if (column === null) {
      column = f.headers[0] ?? f.columns[0] ?? null;
      if (f.defaultValue !== undefined) picked = f.defaultValue;
    }
    rawValues[i] = picked;
    columns[i] = column;
    const unstorable = typeof picked === 'string' ? unstorableText(picked) : undefined;
    if (unstorable !== undefined) {
      failed |= 1 << i;
      rejects = addReject(rejects, row.rowNumber, column, picked, unstorable);
      continue;
    }
    // the appointment's date is read with its time below, once the row's time zone is known
    if (i === dateIndex) continue;
    const result = f.clean(picked, rules);
    if (result.ok) out[i] = result.value;
    else {
      failed |= 1 << i;
      rejects = addReject(rejects, row.rowNumber, column, picked, result.reason);
    }
  }
  // A rule told to keep what it could not clean (onInvalid: keep) may leave a value its column cannot
  // hold; such a value stays with the row's other columns instead of breaking the merge.
  let kept: Record<string, string> | undefined;
  for (const [field, shape] of COLUMN_SHAPES) {
    const i = at[field];
    const text = i === undefined ? null : out[i]!;
    if (i === undefined || text === null || shape.test(text)) continue;
    (kept ??= {})[columns[i] ?? field] = text;
    out[i] = null;
  }
  const emailIndex = at.email;
  if (emailIndex !== undefined && out[emailIndex]) out[emailIndex] = out[emailIndex]!.toLowerCase();
  const timezoneIndex = at.timezone ?? -1;
  const ownZone = valueOf(out, at, 'timezone');
  if (ownZone && !isValidTimezone(ownZone)) {
    failed |= 1 << timezoneIndex;
    rejects = addReject(
      rejects,
      row.rowNumber,
      columns[timezoneIndex]!,
      rawValues[timezoneIndex]!,
      `${JSON.stringify(ownZone)} is not an IANA time zone such as America/Chicago`,
    );
    out[timezoneIndex] = null;
  }
  const zone =
    valueOf(out, at, 'timezone') ??
    compiled.map.timezone ??
    context.locationTimezone(valueOf(out, at, 'location'), valueOf(out, at, 'location_id')) ??
    context.companyTimezone;
  let startsAt: string | null = null;
  if (dateIndex >= 0) {
    // a time that failed its rule leaves the date unread; the row is rejected for the time alone
    if (isFailed(failed, at, 'appointment_time') || (failed & (1 << dateIndex)) !== 0)
      failed |= 1 << dateIndex;
    else {
      const timeIndex = at.appointment_time;
      const time = {
        raw: timeIndex === undefined ? null : rawValues[timeIndex]!,
        cleaned: valueOf(out, at, 'appointment_time'),
      };
      const read = readAppointmentInstant(compiled, rawValues[dateIndex]!, time, zoneContext(rules, zone));
      if (read.ok) startsAt = read.value;
      else {
        failed |= 1 << dateIndex;
        rejects = addReject(rejects, row.rowNumber, columns[dateIndex]!, rawValues[dateIndex]!, read.reason);
      }
    }
  }
  for (let i = 0; i < n; i += 1) {
    const f = bound[i]!;
    if (!f.required || (failed & (1 << i)) !== 0) continue;
    if ((i === dateIndex ? startsAt : out[i]) === null) {
      failed |= 1 << i;
      rejects = addReject(
        rejects,
        row.rowNumber,
        columns[i]!,
        null,
        `${f.field.replace(/_/g, ' ')} is required but blank`,
      );
    }
  }
  const phone = valueOf(out, at, 'phone');
  const email = valueOf(out, at, 'email');
  if (!phone && !email && !isFailed(failed, at, 'phone') && !isFailed(failed, at, 'email')) {
    const index = at.phone ?? at.email ?? -1;
    if (index >= 0) failed |= 1 << index;
    rejects = addReject(
      rejects,
      row.rowNumber,
      index >= 0 ? columns[index]! : null,
      null,
      'a phone number or an email address is required; both are blank',
    );
  }
  const contactKey = keyOf(compiled.contactKeyFields, out, at, startsAt);
  if (!rejects && contactKey === null) {
    rejects = addReject(
      rejects,
      row.rowNumber,
      null,
      null,
      `the fields that identify a contact (${compiled.contactKeyFields.join(', ')}) are all blank`,
    );
  }
  const appointmentKey =
    startsAt === null || contactKey === null
      ? null
      : compiled.appointmentKeyFields
        ? keyOf(compiled.appointmentKeyFields, out, at, startsAt)
        : `${contactKey}${KEY_SEPARATOR}${startsAt}`;
  // A row's unmapped columns go to its appointment, or to its contact when it has none.
  const data: Record<string, string | number | null> = { ...kept };
  // A contact's blank cell is a null, by which the merge removes the stored key (load map blankCells:
  // clear); an appointment under that rule takes the file's data whole, so its blanks are left out.
  const nullsForBlanks = compiled.map.blankCells === 'clear' && appointmentKey === null;
  for (const header of extras) {
    const cell = row.values[header];
    if (cell === null || cell === undefined) {
      if (nullsForBlanks) data[header] = null;
      continue;
    }
    const unstorable = typeof cell === 'string' ? unstorableText(cell) : undefined;
    if (unstorable !== undefined) rejects = addReject(rejects, row.rowNumber, header, cell, unstorable);
    else data[header] = cell instanceof Date ? cell.toISOString() : cell;
  }
  if (rejects || contactKey === null) return { ok: false, rejects: rejects ?? [] };
  const provider = valueOf(out, at, 'provider');
  const location = valueOf(out, at, 'location');
  // an appointment's data names its provider and location too: built here, once, not per row in the merge
  if (appointmentKey !== null) {
    if (provider !== null) data.provider = provider;
    if (location !== null) data.location = location;
  }
  const zip = valueOf(out, at, 'zip');
  return {
    ok: true,
    row: {
      rowNumber: row.rowNumber,
      contactKey,
      appointmentKey,
      externalId: valueOf(out, at, 'external_id'),
      firstName: valueOf(out, at, 'first_name')!,
      lastName: valueOf(out, at, 'last_name')!,
      middleName: valueOf(out, at, 'middle_name'),
      phone,
      email,
      timezone: valueOf(out, at, 'timezone'),
      phoneTimezone: phone ? (timezoneForPhone(phone) ?? null) : null,
      zip,
      state: valueOf(out, at, 'state'),
      zipState: zip ? (stateForZip(zip) ?? null) : null,
      language: valueOf(out, at, 'language'),
      consentSource: valueOf(out, at, 'consent_source'),
      provider,
      providerId: valueOf(out, at, 'provider_id'),
      location,
      locationId: valueOf(out, at, 'location_id'),
      startsAt,
      appointmentTimezone: startsAt === null ? null : zone,
      appointmentExternalId: valueOf(out, at, 'appointment_id'),
      appointmentStatus:
        startsAt === null ? null : normalizeAppointmentStatus(valueOf(out, at, 'appointment_status')),
      data,
    },
  };
}

function valueOf(
  out: (string | null)[],
  at: Partial<Record<CanonicalField, number>>,
  field: CanonicalField,
): string | null {
  const i = at[field];
  return i === undefined ? null : out[i]!;
}

function isFailed(
  failed: number,
  at: Partial<Record<CanonicalField, number>>,
  field: CanonicalField,
): boolean {
  const i = at[field];
  return i !== undefined && (failed & (1 << i)) !== 0;
}

function addReject(
  rejects: Reject[] | undefined,
  rowNumber: number,
  column: string | null,
  value: CellValue,
  reason: string,
): Reject[] {
  const reject: Reject = { rowNumber, column, rawValue: rawText(value), reason };
  if (!rejects) return [reject];
  rejects.push(reject);
  return rejects;
}

// One rule context per zone, made once: rows of a file name the same few zones.
const zoneContexts = new WeakMap<RuleContext, Map<string, RuleContext & { timezone: string }>>();
function zoneContext(rules: RuleContext, zone: string): RuleContext & { timezone: string } {
  let byZone = zoneContexts.get(rules);
  if (!byZone) zoneContexts.set(rules, (byZone = new Map()));
  let context = byZone.get(zone);
  if (!context) byZone.set(zone, (context = { ...rules, timezone: zone }));
  return context;
}

/** The dedupe key: the fields' cleaned values, case-folded, joined; null when every one is blank. */
function keyOf(
  fields: readonly CanonicalField[],
  out: (string | null)[],
  at: Partial<Record<CanonicalField, number>>,
  startsAt: string | null,
): string | null {
  let any = false;
  let key = '';
  for (let i = 0; i < fields.length; i += 1) {
    const part = fields[i] === 'appointment_date' ? startsAt : valueOf(out, at, fields[i]!);
    if (i > 0) key += KEY_SEPARATOR;
    if (part === null || part === '') continue;
    any = true;
    key += part.toLowerCase();
  }
  return any ? key : null;
}
