import { describe, expect, it } from 'vitest';
import { compileTemplate, parseDateFormat, validateTemplate, type TemplateIssue } from '../../lib/template';

const FIELDS = ['first_name', 'last_name', 'appointment_date', 'provider', 'location', 'insurance'];
/** An appointment reminder as operators often write it: HH:MM:ss, with the month where minutes belong. */
const MONTH_FOR_MINUTES =
  'You have an appointment on {data.appointment_date|date|MM-DD-YYYY HH:MM:ss} with {data.provider|name}';

const summary = (issues: TemplateIssue[]): Array<[string, string]> => issues.map((i) => [i.code, i.message]);

describe('a template with HH:MM:ss in a date format', () => {
  it('warns that HH:MM:ss uses the month for minutes and suggests HH:mm:ss', () => {
    const { errors, warnings } = validateTemplate(MONTH_FOR_MINUTES, { fields: FIELDS, channel: 'sms' });
    expect(errors).toEqual([]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      severity: 'warning',
      code: 'argument_warning',
      hint: 'did you mean "MM-DD-YYYY HH:mm:ss"?',
      position: { line: 1, column: 70, offset: 69 },
    });
    expect(warnings[0]!.message).toBe(
      '"MM" in a time is the month; minutes are "mm" at line 1, column 70 (did you mean "MM-DD-YYYY HH:mm:ss"?)',
    );
  });

  it('is clean once corrected', () => {
    expect(
      validateTemplate(MONTH_FOR_MINUTES.replace('HH:MM', 'HH:mm'), { fields: FIELDS, channel: 'sms' }),
    ).toEqual({
      errors: [],
      warnings: [],
    });
  });

  it('still compiles the original (a warning never blocks) and keeps the warning on the compiled template', () => {
    expect(compileTemplate(MONTH_FOR_MINUTES).warnings.map((w) => w.code)).toEqual(['argument_warning']);
  });

  it('accepts the data, company and location tags', () => {
    const source = '{data.first_name} {data.last_name} {data.location} {company.name} {company.phone_number}';
    expect(validateTemplate(source, { fields: FIELDS }).errors).toEqual([]);
  });
});

describe('unknown names', () => {
  it('reports an unknown data field with a suggestion', () => {
    const { errors } = validateTemplate('Hi {data.frist_name}', { fields: FIELDS });
    expect(summary(errors)).toEqual([
      [
        'unknown_field',
        'unknown field "data.frist_name" at line 1, column 4 (did you mean "data.first_name"?)',
      ],
    ]);
  });

  it('lists the known fields when nothing is close', () => {
    const { errors } = validateTemplate('{data.zzz}', { fields: ['a', 'b'] });
    expect(errors[0]!.hint).toBe('known fields: a, b');
  });

  it('accepts nested paths under a known field', () => {
    expect(validateTemplate('{data.insurance.plan}', { fields: FIELDS }).errors).toEqual([]);
  });

  it('skips field checks when no fields are given', () => {
    expect(validateTemplate('{data.anything}').errors).toEqual([]);
  });

  it('checks other roots when their fields are given', () => {
    const { errors } = validateTemplate('{company.nmae} {customer.whatever}', {
      rootFields: { company: ['name', 'phone_number'] },
    });
    expect(summary(errors)).toEqual([
      ['unknown_field', 'unknown field "company.nmae" at line 1, column 1 (did you mean "company.name"?)'],
    ]);
  });

  it('reports an unknown root', () => {
    const { errors } = validateTemplate('{dat.first_name} {foo.bar}', { fields: FIELDS });
    expect(summary(errors)).toEqual([
      [
        'unknown_root',
        'unknown variable "dat.first_name" at line 1, column 2 (did you mean "data.first_name"?)',
      ],
      [
        'unknown_root',
        'unknown variable "foo.bar" at line 1, column 19 (variables start with data, company, customer, location, contact, message)',
      ],
    ]);
  });

  it.each([
    ['{data.first_name|uper}', 'did you mean "upper"?'],
    ['{data.first_name|Nmae}', 'did you mean "name"?'],
    ['{data.appointment_date|dat|MM-DD}', 'did you mean "date"?'],
    ['{data.first_name|deafult|x}', 'did you mean "default"?'],
    ['{data.first_name|capitalize}', 'functions are name, upper, lower, title, default, date, time, phone'],
  ])('reports the unknown function in %s', (source, hint) => {
    const { errors } = validateTemplate(source, { fields: FIELDS });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 'unknown_function', hint });
  });
});

describe('argument counts', () => {
  it.each([
    ['{data.first_name|default}', /"default" needs 1 argument \(text\), got 0/],
    ['{data.first_name|upper|extra}', /"upper" takes no arguments, but "extra" follows it/],
    ['{data.first_name|default|a|b}', /"default" takes 1 argument, but "b" follows it/],
    ['{data.first_name|phone|x}', /"phone" takes no arguments/],
  ])('%s', (source, message) => {
    const { errors } = validateTemplate(source);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('wrong_argument_count');
    expect(errors[0]!.message).toMatch(message);
  });

  it('warns about an empty default', () => {
    const { errors, warnings } = validateTemplate('{data.first_name|default|}');
    expect(errors).toEqual([]);
    expect(warnings[0]!.reason).toBe('empty "default" text');
  });
});

describe('date formats', () => {
  it.each([
    ['YYY', 'unknown date format token "YYY"', 'use one of "YYYY", "YY"'],
    ['yyyy-MM-dd', 'unknown date format token "yyyy"', 'did you mean "YYYY"?'],
    [
      'MM-DD-YYYY at h:mm A',
      'unknown date format token "t"',
      'wrap literal text in square brackets, e.g. "[at]"',
    ],
    ['YYYY-MM-DDTHH:mm', 'unknown date format token "T"', 'wrap literal text in square brackets, e.g. "[T]"'],
    ['Q YYYY', 'unknown date format token "Q"', 'wrap literal text in square brackets, e.g. "[Q]"'],
    ['MMMMM', 'unknown date format token "MMMMM"', 'use one of "MMMM", "MMM", "MM", "M", "mm", "m"'],
    ['[at h:mm', 'unclosed "[" in date format', 'close the literal text with "]"'],
  ])('%s is an error', (format, reason, hint) => {
    const { errors } = validateTemplate(`{data.d|date|${format}}`);
    expect(errors[0]).toMatchObject({ code: 'bad_argument', reason, hint });
  });

  it('points at the bad token inside the format', () => {
    const { errors } = validateTemplate('Due {data.d|date|MM/DD/yyyy}');
    expect(errors[0]!.position).toEqual({ line: 1, column: 24, offset: 23 });
  });

  it('keeps positions right after an escaped character in the argument', () => {
    const { errors } = validateTemplate('{data.d|date|[a\\|b] Q}');
    expect(errors[0]!.position?.offset).toBe('{data.d|date|[a\\|b] '.length);
  });

  it.each([
    ['HH:MM', 'HH:mm'],
    ['h:MM A', 'h:mm A'],
    ['MM-DD-YYYY HH:MM:ss', 'MM-DD-YYYY HH:mm:ss'],
    ['HH:mm:MM', 'HH:mm:mm'],
    ['mm/DD/YYYY', 'MM/DD/YYYY'],
    ['DD.mm.YYYY', 'DD.MM.YYYY'],
  ])('warns about %s and suggests %s', (format, corrected) => {
    const { errors, warnings } = validateTemplate(`{data.d|date|${format}}`);
    expect(errors).toEqual([]);
    expect(warnings.map((w) => w.hint)).toContain(`did you mean "${corrected}"?`);
  });

  it('warns about a 12-hour clock without AM/PM', () => {
    const { warnings } = validateTemplate('{data.d|date|MM-DD hh:mm}');
    expect(warnings.map((w) => w.reason)).toEqual(['12-hour "hh" without "A" (AM/PM)']);
  });

  it.each([
    'MM-DD-YYYY',
    'HH:mm:ss',
    'h:mm A',
    'dddd, MMMM Do YYYY [at] h:mm a z',
    'YY/M/D H:m:s.SSS Z ZZ',
    'MMM',
  ])('accepts %s', (format) => {
    expect(validateTemplate(`{data.d|date|${format}}`)).toEqual({ errors: [], warnings: [] });
  });

  it('validates the default formats of date and time', () => {
    expect(validateTemplate('{data.d|date} {data.d|time}')).toEqual({ errors: [], warnings: [] });
  });

  it('reports an empty format', () => {
    expect(parseDateFormat('  ').issues[0]!.reason).toBe('empty date format');
  });
});

describe('collecting every problem', () => {
  it('reports all errors in source order, not just the first', () => {
    const source =
      'Hi {data.frist_name|uper}, {dat.x} on {data.appointment_date|date|YYY}\n{data.last_name|default} }';
    const { errors } = validateTemplate(source, { fields: FIELDS });
    expect(errors.map((e) => [e.code, e.position?.line, e.position?.column])).toEqual([
      ['unknown_function', 1, 21],
      ['unknown_root', 1, 29],
      ['bad_argument', 1, 67],
      ['wrong_argument_count', 2, 17],
      ['syntax', 2, 26],
    ]);
  });

  it('keeps checking after an unclosed tag on an earlier line', () => {
    const { errors } = validateTemplate('Hi {data.first_name\nBye {data.nope|x}', { fields: FIELDS });
    expect(errors.map((e) => e.code)).toEqual(['unclosed_tag', 'unknown_function']);
  });

  it('reports a forbidden path', () => {
    const { errors } = validateTemplate('{data.__proto__.x}');
    expect(errors[0]).toMatchObject({ code: 'forbidden_path', position: { line: 1, column: 2 } });
  });

  it('reports an oversized template once', () => {
    const { errors } = validateTemplate('{'.repeat(100_000));
    expect(errors.map((e) => e.code)).toEqual(['too_long']);
  });
});

describe('channels', () => {
  it('warns when SMS literal text would force UCS-2, and suggests replacements', () => {
    const { warnings } = validateTemplate('Hi {data.first_name} \u2014 it\u2019s \u201ctime\u201d', {
      fields: FIELDS,
      channel: 'sms',
    });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'non_gsm_text', position: { line: 1, column: 22 } });
    expect(warnings[0]!.hint).toBe(
      'replace "\u2014" with "-", "\u2019" with "\'", "\u201c" with "\\"", "\u201d" with "\\""',
    );
  });

  it('names non-GSM characters that have no replacement without a hint', () => {
    const { warnings } = validateTemplate('See you \u{1F600}', { channel: 'sms' });
    expect(warnings[0]!.reason).toMatch(/"\u{1F600}"/u);
    expect(warnings[0]!.hint).toBeUndefined();
  });

  it('does not warn about values, only the literal text, nor about braces written as {{ }}', () => {
    expect(validateTemplate('{{ok}} {data.first_name}', { channel: 'sms' }).warnings).toEqual([]);
  });

  it('does not warn about non-GSM text for email or voice', () => {
    expect(validateTemplate('Caf\u00e1 \u2014 \u{1F600}', { channel: 'email' }).warnings).toEqual([]);
    expect(validateTemplate('Caf\u00e1 \u2014 \u{1F600}', { channel: 'voice' }).warnings).toEqual([]);
  });

  it('reports positions after {{ correctly', () => {
    const { warnings } = validateTemplate('{{x}} \u2019', { channel: 'sms' });
    expect(warnings[0]!.position).toEqual({ line: 1, column: 7, offset: 6 });
  });
});

describe('functions against the type of their field', () => {
  const fieldTypes = {
    'data.first_name': 'text',
    'data.appointment_date': 'datetime',
    'company.phone_number': 'phone',
  } as const;

  it('refuses a date function on a text field, at the function, with a hint', () => {
    const { errors } = validateTemplate('Born {data.first_name|date|YYYY}', { fieldTypes });
    expect(summary(errors)).toEqual([
      [
        'wrong_type',
        '"date" needs a date and time, but data.first_name is text at line 1, column 23 (use a field that holds a date and time (data.appointment_date), or drop "date")',
      ],
    ]);
  });

  it('follows the value through the chain: a date made text cannot be formatted as a phone', () => {
    expect(validateTemplate('{data.appointment_date|date|MMM D|upper}', { fieldTypes }).errors).toEqual([]);
    expect(
      summary(validateTemplate('{data.appointment_date|date|phone}', { fieldTypes }).errors)[0]![1],
    ).toContain('"phone" needs a phone number, but the result of "date" is text');
    expect(
      validateTemplate('{company.phone_number|phone} {data.first_name|default|friend|upper}', { fieldTypes })
        .errors,
    ).toEqual([]);
  });

  it("leaves fields of unknown type alone (a file's extra columns)", () => {
    expect(validateTemplate('{data.next_visit|date}', { fieldTypes }).errors).toEqual([]);
  });
});
