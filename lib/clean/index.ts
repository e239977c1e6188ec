// The cleaning-rule registry: a load map names a rule and its options; this checks them and builds the rule.
import { z } from 'zod';
import { BoundedMemo, detachedText } from '../bounded-memo';
import { ALL_FORMATS } from './datetime-formats';
import { combineDateTime, isValidTimezone, parseDateTime, parseLocalDate, parseTimeOfDay } from './datetime';
import { cleanEmail } from './email';
import { cleanName } from './names';
import { cleanPhone } from './phone';
import { fail, isBlank, ok, type CleanResult } from './result';
import { cleanText } from './text';
import { cleanState, cleanZip } from './zip-state';

export type { CleanResult } from './result';
export type CleanValue = string | null;

/** Settings a rule falls back on when its own options leave them out: the load map's or company's. */
export interface RuleContext {
  timezone?: string;
  defaultCountry?: string;
}

export type CleanFunction = (value: unknown, context?: RuleContext) => CleanResult<CleanValue>;

const timezone = z
  .string()
  .refine(isValidTimezone, { message: 'must be an IANA time zone such as America/Chicago' });
const formats = z.array(z.enum(ALL_FORMATS)).min(1);

// What to do with a value the rule cannot clean: reject the row (default), keep the raw text, or blank it.
const onInvalid = z.enum(['reject', 'keep', 'blank']).default('reject');

function rule<S extends z.ZodRawShape>(
  description: string,
  shape: S,
  build: (options: z.infer<z.ZodObject<S>>) => CleanFunction,
) {
  return { description, options: z.strictObject(shape), build };
}

// Appointment files repeat a few hundred dates and time slots on every row. A date or time rule's answer
// depends only on the cell's text (no zone, no clock), so each compiled rule remembers its answers for
// text cells.
function rememberText(clean: CleanFunction): CleanFunction {
  const known = new BoundedMemo<string, CleanResult<CleanValue>>(10_000);
  return (value, context) => {
    if (typeof value !== 'string') return clean(value, context);
    const result = known.get(value);
    if (result !== undefined) return result;
    const text = detachedText(value);
    return known.set(text, clean(text, context));
  };
}

export const CLEAN_RULES = {
  text: rule(
    'trim and collapse whitespace; optional maximum length',
    { maxLength: z.number().int().positive().optional() },
    (o) => (v) => cleanText(v, o),
  ),
  name: rule(
    "a person's name: tidy spacing, proper-case ALL CAPS or all lower case",
    {
      part: z.enum(['full', 'given', 'family']).default('full'),
      maxLength: z.number().int().positive().default(100),
    },
    (o) => (v) => cleanName(v, o),
  ),
  phone: rule(
    'a phone number in E.164, read in the default country when it has no +country code',
    {
      defaultCountry: z
        .string()
        .regex(/^[A-Za-z]{2}$/)
        .optional(),
    },
    (o) => (v, ctx) => cleanPhone(v, { defaultCountry: o.defaultCountry ?? ctx?.defaultCountry ?? 'US' }),
  ),
  email: rule('an email address, trimmed and lower-cased', {}, () => (v) => cleanEmail(v)),
  zip: rule(
    'a US ZIP or ZIP+4, with zeros Excel dropped put back',
    { plus4: z.enum(['keep', 'drop']).default('keep') },
    (o) => (v) => cleanZip(v, o),
  ),
  state: rule(
    'a US state, territory or military code, from a code or a name',
    { military: z.boolean().default(true) },
    (o) => (v) => cleanState(v, o),
  ),
  datetime: rule(
    'a date-time (or [date, time] pair) read in a time zone, as a UTC ISO instant',
    { timezone: timezone.optional(), formats: formats.optional() },
    (o) => (v, ctx) => {
      const zone = o.timezone ?? ctx?.timezone;
      if (!zone)
        return fail(
          'no time zone to read the date in: set timezone on the rule, the load map or the company',
        );
      const options = { timezone: zone, formats: o.formats };
      return Array.isArray(v) ? combineDateTime(v[0], v[1], options) : parseDateTime(v, options);
    },
  ),
  date: rule(
    'a calendar date without time or zone (a birth date), as YYYY-MM-DD',
    { formats: formats.optional() },
    (o) => rememberText((v) => parseLocalDate(v, o)),
  ),
  time: rule(
    'a time of day without date or zone (an appointment time column), as HH:mm:ss',
    { formats: formats.optional() },
    (o) => rememberText((v) => parseTimeOfDay(v, o)),
  ),
} as const;

export type CleanRuleName = keyof typeof CLEAN_RULES;

export type CompiledRule = { ok: true; clean: CleanFunction } | { ok: false; reason: string };

function isRuleName(name: unknown): name is CleanRuleName {
  return typeof name === 'string' && Object.hasOwn(CLEAN_RULES, name);
}

/**
 * Checks one rule spec from a load map (`{ "rule": "phone", "defaultCountry": "US", "onInvalid": "keep" }`)
 * and builds its function once, so rows are cleaned without re-reading options.
 */
export function compileRule(spec: unknown): CompiledRule {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec))
    return fail('a rule must be an object such as { "rule": "phone" }');
  const { rule: name, onInvalid: invalid, ...rest } = spec as Record<string, unknown>;
  if (!isRuleName(name))
    return fail(`unknown rule ${JSON.stringify(name)}; known rules: ${Object.keys(CLEAN_RULES).join(', ')}`);
  const mode = onInvalid.safeParse(invalid);
  if (!mode.success) return fail(`rule ${name}: onInvalid must be reject, keep or blank`);
  const definition = CLEAN_RULES[name];
  const parsed = definition.options.safeParse(rest);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
      .join('; ');
    return fail(`rule ${name}: ${issues}`);
  }
  const clean = (definition.build as (options: unknown) => CleanFunction)(parsed.data);
  return { ok: true, clean: withInvalidPolicy(clean, mode.data) };
}

function withInvalidPolicy(clean: CleanFunction, mode: 'reject' | 'keep' | 'blank'): CleanFunction {
  if (mode === 'reject') return clean;
  return (value, context) => {
    const result = clean(value, context);
    if (result.ok) return result;
    return ok(mode === 'blank' ? null : rawText(value));
  };
}

function rawText(value: unknown): CleanValue {
  if (isBlank(value)) return null;
  if (value instanceof Date) return value.toISOString();
  return Array.isArray(value)
    ? value
        .map((v) => rawText(v) ?? '')
        .join(' ')
        .trim()
    : String(value);
}

/** Compiles a field's rules into one function applying them in order; the first failure stops it. */
export function compileRules(specs: readonly unknown[]): CompiledRule {
  const compiled: CleanFunction[] = [];
  for (const [index, spec] of specs.entries()) {
    const one = compileRule(spec);
    if (!one.ok) return fail(specs.length > 1 ? `rule ${index + 1}: ${one.reason}` : one.reason);
    compiled.push(one.clean);
  }
  return {
    ok: true,
    clean: (value, context) => {
      let current: CleanResult<CleanValue> = ok(rawText(value));
      let input: unknown = value;
      for (const clean of compiled) {
        current = clean(input, context);
        if (!current.ok) return current;
        input = current.value;
      }
      return current;
    },
  };
}

export { cleanEmail } from './email';
export { cleanName } from './names';
export { cleanPhone } from './phone';
export { cleanText } from './text';
export { cleanState, cleanZip } from './zip-state';
export {
  combineDateTime,
  parseDateTime,
  parseLocalDate,
  parseTimeOfDay,
  wallClockToInstant,
  isValidTimezone,
} from './datetime';
export { stateForZip, ZIP_PREFIX_RANGES } from './zip-prefix';
export { stateCodeOf, US_STATES, type StateCode } from './us-states';
export { AREA_CODE_TIMEZONES, STATE_TIMEZONES, timezoneForPhone, timezoneForState } from './us-timezones';
export { repairGarbledText } from './garbled-text';
