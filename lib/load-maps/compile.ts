// Compiles a load map once per packet: each field's columns, default and cleaning rules, and its dedupe fields.
import { compileRules, type CleanFunction } from '../clean';
import { normalizeHeader } from '../parse';
import { CANONICAL_FIELDS, type CanonicalField } from '../../schemas/canonical';
import { loadMapSchema, formatZodIssues, type LoadMap } from '../../schemas/load-map';

/**
 * A load map that cannot be used as written: each problem names its place in the map. Callers decide
 * what it means for them (a packet's ingest makes it a non-retryable problem, the CLI a usage error).
 */
export class InvalidLoadMap extends Error {
  override readonly name = 'InvalidLoadMap';

  constructor(
    readonly label: string,
    readonly problems: readonly string[],
  ) {
    super(`load map ${label} is invalid: ${problems.join('; ')}`);
  }
}

type RuleSpecs = { rule: string; [option: string]: unknown }[];

// A field without rules still has to fit its database column (E.164 phone, lower-case email, 2-letter
// state), so these fields get their rule by default; every other field is trimmed text.
const DEFAULT_RULES: Partial<Record<CanonicalField, RuleSpecs>> = {
  phone: [{ rule: 'phone' }],
  email: [{ rule: 'email' }],
  zip: [{ rule: 'zip' }],
  state: [{ rule: 'state' }],
  appointment_date: [{ rule: 'datetime' }],
  appointment_time: [{ rule: 'time' }],
};
const TEXT_RULES: RuleSpecs = [{ rule: 'text' }];

// reminders address people by first and last name, so every load map must read both from the file
const ALWAYS_REQUIRED: ReadonlySet<CanonicalField> = new Set(['first_name', 'last_name']);

export interface CompiledField {
  field: CanonicalField;
  /** source column alternatives in order; per row the first non-blank one is used */
  columns: readonly string[];
  defaultValue: string | undefined;
  required: boolean;
  clean: CleanFunction;
}

/**
 * How the appointment instant is read: `instant` = the date field's rules (a `datetime` rule) turn the
 * date, or the [date, time] pair, into a UTC instant; `wall` = a `date` rule gives YYYY-MM-DD and the
 * time field's rules give HH:mm:ss, joined in the row's time zone.
 */
export type AppointmentReading = 'instant' | 'wall';

export interface CompiledMap {
  map: LoadMap;
  fields: CompiledField[];
  byField: Partial<Record<CanonicalField, CompiledField>>;
  appointmentReading: AppointmentReading;
  contactKeyFields: readonly CanonicalField[];
  appointmentKeyFields: readonly CanonicalField[] | undefined;
}

/** Validates a stored load map (it may predate today's schema) and compiles it, or says what is wrong. */
export function compileLoadMap(raw: unknown, label: string, dedupeOverride?: readonly string[]): CompiledMap {
  const parsed = loadMapSchema.safeParse(raw);
  if (!parsed.success) {
    throw new InvalidLoadMap(label, [formatZodIssues(parsed.error)]);
  }
  const map = parsed.data;
  const problems: string[] = [];
  const fields: CompiledField[] = [];
  // in canonical order, not the map's: jsonb keeps object keys in its own order, not the file's
  for (const field of CANONICAL_FIELDS) {
    const spec = map.fields[field];
    if (!spec) continue;
    const specs = spec.rules.length > 0 ? spec.rules : (DEFAULT_RULES[field] ?? TEXT_RULES);
    const compiled = compileRules(specs);
    if (!compiled.ok) {
      problems.push(`fields.${field}: ${compiled.reason}`);
      continue;
    }
    const columns =
      spec.column === undefined ? [] : typeof spec.column === 'string' ? [spec.column] : spec.column;
    fields.push({
      field,
      columns,
      defaultValue: spec.default,
      required: spec.required || ALWAYS_REQUIRED.has(field),
      clean: compiled.clean,
    });
  }
  problems.push(...sharedColumnProblems(map));
  const dateRules = map.fields.appointment_date?.rules ?? [];
  const appointmentReading: AppointmentReading = dateRules.some((r) => r.rule === 'date')
    ? 'wall'
    : 'instant';
  if (map.fields.appointment_time && !map.fields.appointment_date) {
    problems.push('fields.appointment_time: needs appointment_date to go with it');
  }
  // the company's dedupe criteria (contact_blocks) win over the map's, so every feed keys contacts alike
  let contactKeyFields: readonly CanonicalField[] = map.dedupe.contact;
  if (dedupeOverride && dedupeOverride.length > 0) {
    const unfilled = dedupeOverride.filter((f) => !Object.hasOwn(map.fields, f));
    if (unfilled.length > 0) {
      problems.push(`the company's dedupe criteria use ${unfilled.join(', ')}, which the map does not fill`);
    } else {
      contactKeyFields = dedupeOverride as readonly CanonicalField[];
    }
  }
  const appointmentKeyFields = map.dedupe.appointment;
  for (const field of appointmentKeyFields ?? []) {
    if (!map.fields[field]) problems.push(`dedupe.appointment: uses ${field}, which the map does not fill`);
  }
  if (problems.length > 0) throw new InvalidLoadMap(label, problems);
  const byField: CompiledMap['byField'] = {};
  for (const f of fields) byField[f.field] = f;
  return { map, fields, byField, appointmentReading, contactKeyFields, appointmentKeyFields };
}

/**
 * A column read into two fields is usually a copy-paste slip (first and last name both from "Name");
 * when it is meant (a full-name column split by name rules), each field that shares it says so.
 */
function sharedColumnProblems(map: LoadMap): string[] {
  const readers = new Map<string, { column: string; fields: CanonicalField[] }>();
  for (const field of CANONICAL_FIELDS) {
    const spec = map.fields[field];
    if (spec?.column === undefined) continue;
    for (const column of typeof spec.column === 'string' ? [spec.column] : spec.column) {
      const key = normalizeHeader(column);
      const entry = readers.get(key) ?? { column, fields: [] };
      if (!entry.fields.includes(field)) entry.fields.push(field);
      readers.set(key, entry);
    }
  }
  const problems: string[] = [];
  for (const { column, fields } of readers.values()) {
    const unmarked = fields.filter((f) => !map.fields[f]!.sharedColumn);
    if (fields.length > 1 && unmarked.length > 0)
      problems.push(
        `column ${JSON.stringify(column)} is read into ${fields.join(' and ')}; map each field to its own column, or mark each with "sharedColumn": true if one column really fills both`,
      );
  }
  return problems;
}
