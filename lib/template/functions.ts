// The template functions (`{value|function|argument}`): the one registry compile, validate and render use.

import { BoundedMemo } from '../bounded-memo';
import { formatDate, parseDateFormat, toZonedDateTime, type DatePart } from './date-format';
import { properCaseName, titleCase } from '../name-case';
import { formatPhoneNumber } from './phone';
import { FunctionInputError, type PreparedArguments, type TemplateFunction } from './types';
import { isBlank, valueToText } from './value';

const noArguments = (): PreparedArguments<undefined> => ({ prepared: undefined, issues: [] });

function textFunction(
  name: string,
  summary: string,
  example: string,
  change: (text: string) => string,
): TemplateFunction {
  return {
    name,
    summary,
    example,
    params: [],
    returns: 'text',
    prepare: noArguments,
    apply: (value) => change(valueToText(value)),
  };
}

function dateFunction(
  name: string,
  summary: string,
  example: string,
  defaultFormat: string,
): TemplateFunction<DatePart[]> {
  return {
    name,
    summary,
    example,
    params: [
      { name: 'format', description: `moment-style format, default "${defaultFormat}"`, optional: true },
    ],
    accepts: ['datetime'],
    returns: 'text',
    prepare: (args) => {
      const { parts, issues } = parseDateFormat(args[0] ?? defaultFormat);
      return { prepared: parts, issues };
    },
    apply: (value, parts, scope) => {
      const key =
        typeof value === 'string' ? `${scope.timezone}\u0000${scope.locale}\u0000${value}` : undefined;
      const known = key === undefined ? undefined : formattedDates.get(parts)?.get(key);
      if (known !== undefined) return known;
      const dt = toZonedDateTime(value, scope.timezone, scope.locale);
      if (!dt)
        throw new FunctionInputError(`is not a date (${JSON.stringify(valueToText(value)).slice(0, 60)})`);
      const text = formatDate(dt, parts);
      if (key !== undefined) rememberDate(parts, key, text);
      return text;
    },
  };
}

/**
 * Dates already formatted, per prepared format: a batch of reminders shares a handful of appointment
 * times, and reading one in its time zone costs Intl calls that dominate rendering otherwise. The
 * result depends only on the text, zone, locale and format, so a hit is exact; the memory is bounded.
 */
const formattedDates = new WeakMap<readonly DatePart[], BoundedMemo<string, string>>();
function rememberDate(parts: readonly DatePart[], key: string, text: string): void {
  let known = formattedDates.get(parts);
  if (!known) formattedDates.set(parts, (known = new BoundedMemo(10_000)));
  known.set(key, text);
}

const ALL: TemplateFunction[] = [
  textFunction(
    'name',
    'proper-cases a name given in one case; mixed case is kept',
    '{data.provider|name}',
    properCaseName,
  ),
  textFunction('upper', 'UPPER CASE', '{data.code|upper}', (t) => t.toUpperCase()),
  textFunction('lower', 'lower case', '{data.email|lower}', (t) => t.toLowerCase()),
  textFunction('title', 'Capitalises Each Word', '{location.name|title}', titleCase),
  {
    name: 'default',
    summary: 'text to use when the value is missing or blank',
    example: '{data.first_name|default|friend}',
    params: [{ name: 'text', description: 'the text used instead' }],
    acceptsMissing: true,
    prepare: (args) => ({
      prepared: args[0] ?? '',
      issues:
        args[0]?.trim() === ''
          ? [
              {
                severity: 'warning',
                reason: 'empty "default" text',
                hint: 'a missing value already renders as nothing',
                offset: 0,
              },
            ]
          : [],
    }),
    apply: (value, text) => (isBlank(value) ? text : value),
  } satisfies TemplateFunction<string>,
  dateFunction(
    'date',
    "formats a date and time in the recipient's time zone",
    '{data.appointment_date|date|MM-DD-YYYY h:mm A}',
    'MMMM D, YYYY',
  ),
  dateFunction(
    'time',
    "formats the time of day in the recipient's time zone",
    '{data.appointment_date|time|h:mm A}',
    'h:mm A',
  ),
  {
    name: 'phone',
    summary: 'a phone number in national format at home, international format abroad',
    example: '{company.phone_number|phone}',
    params: [],
    accepts: ['phone'],
    returns: 'text',
    prepare: noArguments,
    apply: (value, _prepared, scope) => {
      const text = valueToText(value);
      const formatted = formatPhoneNumber(text, scope.country);
      if (formatted === undefined)
        throw new FunctionInputError(`is not a phone number (${JSON.stringify(text).slice(0, 40)})`);
      return formatted;
    },
  },
];

/** Keyed by lower-case name: authors in a web form write "Date" as often as "date". */
export const TEMPLATE_FUNCTIONS: ReadonlyMap<string, TemplateFunction> = new Map(
  ALL.map((fn) => [fn.name, Object.freeze(fn)]),
);

export function findTemplateFunction(name: string): TemplateFunction | undefined {
  return TEMPLATE_FUNCTIONS.get(name.trim().toLowerCase());
}

/** For the operator CLI and documentation: what can be written after a `|`. */
export function listTemplateFunctions(): Array<
  Pick<TemplateFunction, 'name' | 'summary' | 'example' | 'params'>
> {
  return ALL.map(({ name, summary, example, params }) => ({ name, summary, example, params }));
}
