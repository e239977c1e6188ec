// Applies a compiled load map to parsed rows: columns, defaults, cleaning, time zones, required fields, keys.
import { isValidTimezone, timezoneForPhone, type RuleContext } from '../clean';
import { matchColumns, type CellValue, type ExpectedColumn, type ParsedRow } from '../parse';
import type { CanonicalField } from '../../schemas/canonical';
import { readAppointmentInstant, normalizeAppointmentStatus } from './appointment-time';
import type { CompiledField, CompiledMap } from './compile-map';
import { IngestProblem } from './errors';
import type { StagedRow } from './staged-row';

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
  return (row) => mapRow(row, compiled, bound, extras, context);
}

function pick(f: BoundField, values: ParsedRow['values']): { value: CellValue; column: string | null } {
  for (const header of f.headers) {
    const value = values[header];
    if (value !== null && value !== undefined && !(typeof value === 'string' && value.trim() === ''))
      return { value, column: header };
  }
  if (f.defaultValue !== undefined) return { value: f.defaultValue, column: null };
  return { value: null, column: f.headers[0] ?? f.columns[0] ?? null };
}

function mapRow(
  row: ParsedRow,
  compiled: CompiledMap,
  bound: BoundField[],
  extras: string[],
  context: MapperContext,
): MappedRow {
  const rejects: Reject[] = [];
  const failed = new Set<CanonicalField>();
  const out: Partial<Record<CanonicalField, string | null>> = {};
  const raw: Partial<Record<CanonicalField, { value: CellValue; column: string | null }>> = {};
  const reject = (field: CanonicalField | null, value: CellValue, reason: string) => {
    if (field) failed.add(field);
    rejects.push({
      rowNumber: row.rowNumber,
      column: field ? (raw[field]?.column ?? null) : null,
      rawValue: rawText(value),
      reason,
    });
  };
  const rules: RuleContext = { defaultCountry: compiled.map.defaultCountry };

  for (const f of bound) {
    const picked = pick(f, row.values);
    raw[f.field] = picked;
    // the appointment's date is read with its time below, once the row's time zone is known
    if (f.field === 'appointment_date') continue;
    const result = f.clean(picked.value, rules);
    if (result.ok) out[f.field] = result.value;
    else reject(f.field, picked.value, result.reason);
  }
  if (out.timezone && !isValidTimezone(out.timezone)) {
    reject(
      'timezone',
      raw.timezone?.value ?? null,
      `${JSON.stringify(out.timezone)} is not an IANA time zone such as America/Chicago`,
    );
    out.timezone = null;
  }
  const zone =
    out.timezone ??
    compiled.map.timezone ??
    context.locationTimezone(out.location ?? null, out.location_id ?? null) ??
    context.companyTimezone;
  let startsAt: string | null = null;
  // a time that failed its rule leaves the date unread; the row is rejected for the time alone
  if (failed.has('appointment_time')) failed.add('appointment_date');
  if (raw.appointment_date && !failed.has('appointment_date')) {
    const time = { raw: raw.appointment_time?.value ?? null, cleaned: out.appointment_time ?? null };
    const read = readAppointmentInstant(compiled, raw.appointment_date.value, time, {
      ...rules,
      timezone: zone,
    });
    if (read.ok) startsAt = read.value;
    else reject('appointment_date', raw.appointment_date.value, read.reason);
  }
  for (const f of bound) {
    if (!f.required || failed.has(f.field)) continue;
    const value = f.field === 'appointment_date' ? startsAt : out[f.field];
    if (value === null || value === undefined)
      reject(f.field, null, `${f.field.replace(/_/g, ' ')} is required but blank`);
  }
  if (!out.phone && !out.email && !failed.has('phone') && !failed.has('email')) {
    reject(
      raw.phone ? 'phone' : raw.email ? 'email' : null,
      null,
      'a phone number or an email address is required; both are blank',
    );
  }
  const contactKey = keyOf(compiled.contactKeyFields, out, startsAt);
  if (rejects.length === 0 && contactKey === null) {
    reject(
      null,
      null,
      `the fields that identify a contact (${compiled.contactKeyFields.join(', ')}) are all blank`,
    );
  }
  if (rejects.length > 0 || contactKey === null) return { ok: false, rejects };

  const data: Record<string, string | number> = {};
  for (const header of extras) {
    const value = row.values[header];
    if (value !== null && value !== undefined)
      data[header] = value instanceof Date ? value.toISOString() : value;
  }
  const appointmentKey =
    startsAt === null
      ? null
      : compiled.appointmentKeyFields
        ? keyOf(compiled.appointmentKeyFields, out, startsAt)
        : `${contactKey}${KEY_SEPARATOR}${startsAt}`;
  const phone = out.phone ?? null;
  return {
    ok: true,
    row: {
      rowNumber: row.rowNumber,
      contactKey,
      appointmentKey,
      externalId: out.external_id ?? null,
      firstName: out.first_name!,
      lastName: out.last_name!,
      middleName: out.middle_name ?? null,
      phone,
      email: out.email ?? null,
      timezone: out.timezone ?? null,
      phoneTimezone: phone ? (timezoneForPhone(phone) ?? null) : null,
      zip: out.zip ?? null,
      state: out.state ?? null,
      language: out.language ?? null,
      consentSource: out.consent_source ?? null,
      provider: out.provider ?? null,
      providerId: out.provider_id ?? null,
      location: out.location ?? null,
      locationId: out.location_id ?? null,
      startsAt,
      appointmentTimezone: startsAt === null ? null : zone,
      appointmentExternalId: out.appointment_id ?? null,
      appointmentStatus:
        startsAt === null ? null : normalizeAppointmentStatus(out.appointment_status ?? null),
      data,
    },
  };
}

/** The dedupe key: the fields' cleaned values, case-folded, joined; null when every one is blank. */
function keyOf(
  fields: readonly CanonicalField[],
  out: Partial<Record<CanonicalField, string | null>>,
  startsAt: string | null,
): string | null {
  let any = false;
  const parts = fields.map((field) => {
    const value = field === 'appointment_date' ? startsAt : out[field];
    if (value === null || value === undefined || value === '') return '';
    any = true;
    return value.toLowerCase();
  });
  return any ? parts.join(KEY_SEPARATOR) : null;
}
