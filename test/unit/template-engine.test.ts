import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  compileTemplate,
  listTemplateFunctions,
  properCaseName,
  render,
  renderTemplate,
  renderWithReport,
  resolveTemplate,
  TemplateError,
  type TemplateCandidate,
} from '../../lib/template';

const APPOINTMENT_TEMPLATE =
  'You have an appointment on {data.appointment_date|date|MM-DD-YYYY HH:mm:ss} with {data.provider|name}';

const context = {
  data: {
    first_name: 'MARY',
    last_name: "o'brien",
    appointment_date: '2026-12-01T15:30:00Z',
    provider: 'DR. JOHN MCDONALD',
    location: 'NORTH CLINIC',
    phone: '5551234567',
    empty: '',
    blank: '   ',
    count: 3,
    nested: { plan: 'gold' },
  },
  company: { name: 'Acme Health', phone_number: '+15551234567' },
  customer: { name: 'Dr. Smith' },
  location: { name: 'north clinic' },
};

function errorOf(fn: () => unknown): TemplateError {
  try {
    fn();
  } catch (error) {
    if (error instanceof TemplateError) return error;
    throw error;
  }
  throw new Error('expected a TemplateError');
}

describe('an appointment reminder template', () => {
  it('renders in the recipient time zone', () => {
    expect(renderTemplate(APPOINTMENT_TEMPLATE, context, { timezone: 'America/New_York' })).toBe(
      'You have an appointment on 12-01-2026 10:30:00 with Dr. John McDonald',
    );
  });

  it('renders the same instant differently per zone', () => {
    const compiled = compileTemplate('{data.appointment_date|date|MM-DD-YYYY h:mm A}');
    expect(render(compiled, context, { timezone: 'America/Los_Angeles' })).toBe('12-01-2026 7:30 AM');
    expect(render(compiled, context, { timezone: 'Asia/Kolkata' })).toBe('12-01-2026 9:00 PM');
    expect(render(compiled, context)).toBe('12-01-2026 3:30 PM');
  });

  it('compiles the template written with HH:MM:ss, which is only a warning', () => {
    const compiled = compileTemplate(APPOINTMENT_TEMPLATE.replace('HH:mm:ss', 'HH:MM:ss'));
    expect(compiled.warnings).toHaveLength(1);
    expect(render(compiled, context, { timezone: 'America/New_York' })).toBe(
      'You have an appointment on 12-01-2026 10:12:00 with Dr. John McDonald',
    );
  });

  it('renders {company.name}, {company.phone_number}, {customer.name} and {location.name}', () => {
    expect(
      renderTemplate('{company.name} {company.phone_number} {customer.name} {location.name}', context),
    ).toBe('Acme Health +15551234567 Dr. Smith north clinic');
  });
});

describe('plain text and escaping of braces', () => {
  it.each([
    ['Hello', 'Hello'],
    ['', ''],
    ['{{', '{'],
    ['}}', '}'],
    ['{{data.first_name}}', '{data.first_name}'],
    ['a {{ b }} c', 'a { b } c'],
    ['{{{data.first_name}}}', '{Mary}'],
    ['line1\nline2\r\n', 'line1\nline2\r\n'],
  ])('%j renders as %j', (source, expected) => {
    expect(renderTemplate(source, context)).toBe(expected);
  });

  it('lists the variables used, once each', () => {
    const compiled = compileTemplate('{data.first_name} {company.name} {data.first_name|upper}');
    expect(compiled.variables).toEqual(['data.first_name', 'company.name']);
  });

  it('allows whitespace around variable and function names', () => {
    expect(renderTemplate('{ data.first_name | upper }', context)).toBe('MARY');
  });

  it('freezes the compiled template so renders cannot change it', () => {
    const compiled = compileTemplate('Hi {data.first_name}');
    expect(Object.isFrozen(compiled)).toBe(true);
    expect(Object.isFrozen(compiled.nodes[1])).toBe(true);
  });
});

describe('automatic name casing', () => {
  it.each([
    ['{data.first_name}', 'Mary'],
    ['{data.last_name}', "O'Brien"],
    ['{data.location}', 'North Clinic'],
    ['{data.provider}', 'Dr. John McDonald'],
    ['{data.first_name|upper}', 'MARY'],
    ['{data.first_name|lower}', 'mary'],
  ])('%s -> %s', (source, expected) => {
    expect(renderTemplate(source, context)).toBe(expected);
  });

  it('applies to the same field names under other roots', () => {
    expect(renderTemplate('{contact.first_name}', { contact: { first_name: 'JOSÉ' } })).toBe('José');
  });

  it('leaves other fields as given', () => {
    expect(renderTemplate('{location.name} {data.nested.plan}', context)).toBe('north clinic gold');
  });

  it('can be switched off', () => {
    expect(renderTemplate('{data.first_name}', context, { autoNameFields: [] })).toBe('MARY');
  });

  it('does not name-case a default text', () => {
    expect(renderTemplate('{data.middle_name|default|my FRIEND}', context)).toBe('my FRIEND');
  });
});

describe('properCaseName', () => {
  it.each([
    ['MARY', 'Mary'],
    ['mary', 'Mary'],
    ["O'BRIEN", "O'Brien"],
    ["d'angelo", "D'Angelo"],
    ['MCDONALD', 'McDonald'],
    ['McDonald', 'McDonald'],
    ['DeShawn', 'DeShawn'],
    ['van der Berg', 'van der Berg'],
    ['MARY-KATE SMITH-JONES', 'Mary-Kate Smith-Jones'],
    ['MARIA DE LA CRUZ', 'Maria de la Cruz'],
    ['DE LA CRUZ', 'De la Cruz'],
    ['LA TOYA', 'La Toya'],
    ['JOHN E SMITH', 'John E Smith'],
    ['JOHN SMITH III', 'John Smith III'],
    ['JOHN SMITH JR.', 'John Smith Jr.'],
    ['SMITH, JOHN MD', 'Smith, John MD'],
    ['JOHN SMITH, MD', 'John Smith, MD'],
    ['JANE DOE, PHD', 'Jane Doe, PhD'],
    ['ÉMILE ZOLA', 'Émile Zola'],
    ['ÅSA ÖBERG', 'Åsa Öberg'],
    ['  MARY   ANN ', '  Mary   Ann '],
    ['', ''],
    ['123', '123'],
  ])('%j -> %j', (input, expected) => {
    expect(properCaseName(input)).toBe(expected);
  });
});

describe('functions', () => {
  it.each([
    ['{data.provider|name}', 'Dr. John McDonald'],
    ['{company.name|upper}', 'ACME HEALTH'],
    ['{company.name|lower}', 'acme health'],
    ['{location.name|title}', 'North Clinic'],
    ['{customer.name|title}', 'Dr. Smith'],
    ['{data.missing|default|friend}', 'friend'],
    ['{data.empty|default|friend}', 'friend'],
    ['{data.blank|default|friend}', 'friend'],
    ['{data.first_name|default|friend}', 'Mary'],
    ['{data.count|default|none}', '3'],
    ['{data.appointment_date|date}', 'December 1, 2026'],
    ['{data.appointment_date|time}', '3:30 PM'],
    ['{data.appointment_date|time|HH:mm}', '15:30'],
    ['{data.phone|phone}', '(555) 123-4567'],
    ['{company.phone_number|phone}', '(555) 123-4567'],
    ['{data.count|upper}', '3'],
  ])('%s -> %s', (source, expected) => {
    expect(renderTemplate(source, context)).toBe(expected);
  });

  it('registers every function once, with an example that compiles', () => {
    const names = listTemplateFunctions().map((fn) => fn.name);
    expect(names).toEqual(['name', 'upper', 'lower', 'title', 'default', 'date', 'time', 'phone']);
    for (const fn of listTemplateFunctions()) expect(() => compileTemplate(fn.example)).not.toThrow();
  });

  it('matches function names regardless of case', () => {
    expect(renderTemplate('{company.name|UPPER}', context)).toBe('ACME HEALTH');
  });

  it('formats non-US numbers internationally and US numbers nationally', () => {
    const data = { uk: '+44 20 7946 0958', fr: '+33 1 23 45 67 89', us: '+1 (212) 555-0123' };
    expect(renderTemplate('{data.uk|phone} {data.fr|phone} {data.us|phone}', { data })).toBe(
      '+44 20 7946 0958 +33 1 23 45 67 89 (212) 555-0123',
    );
  });

  it('formats national numbers for the home country it is given', () => {
    expect(renderTemplate('{data.uk|phone}', { data: { uk: '+442079460958' } }, { country: 'GB' })).toBe(
      '020 7946 0958',
    );
  });

  it('takes an optional date format only when the next segment is not a function', () => {
    expect(renderTemplate('{data.appointment_date|time|lower}', context)).toBe('3:30 pm');
    expect(renderTemplate('{data.appointment_date|date|dddd|upper}', context)).toBe('TUESDAY');
  });

  it('allows escaped pipes and braces inside arguments', () => {
    expect(renderTemplate('{data.missing|default|a \\| b \\} c}', context)).toBe('a | b } c');
  });
});

describe('dates', () => {
  const at = (value: unknown, format: string, options = {}): string =>
    renderTemplate(`{data.d|date|${format}}`, { data: { d: value } }, options);

  it.each([
    ['YYYY YY', '2026 26'],
    ['MMMM MMM MM M', 'December Dec 12 12'],
    ['DD D Do', '01 1 1st'],
    ['dddd ddd', 'Tuesday Tue'],
    ['HH H hh h', '15 15 03 3'],
    ['mm m ss s SSS', '30 30 05 5 007'],
    ['A a', 'PM pm'],
    ['Z ZZ z', '+00:00 +0000 UTC'],
    ['[at] h:mm A [on] dddd', 'at 3:30 PM on Tuesday'],
    ['YYYY-MM-DD[T]HH:mm', '2026-12-01T15:30'],
    ['[[]YYYY]', '[2026]'],
  ])('%s -> %s', (format, expected) => {
    expect(at('2026-12-01T15:30:05.007Z', format)).toBe(expected);
  });

  it.each([
    [1, '1st'],
    [2, '2nd'],
    [3, '3rd'],
    [4, '4th'],
    [11, '11th'],
    [12, '12th'],
    [13, '13th'],
    [21, '21st'],
    [22, '22nd'],
    [23, '23rd'],
    [31, '31st'],
  ])('day %i is the %s', (day, expected) => {
    expect(at(`2026-01-${String(day).padStart(2, '0')}T12:00:00Z`, 'Do')).toBe(expected);
  });

  it('shows midnight and noon on the 12-hour clock as 12', () => {
    expect(at('2026-12-01T00:05:00Z', 'h:mm A')).toBe('12:05 AM');
    expect(at('2026-12-01T12:05:00Z', 'hh:mm a')).toBe('12:05 pm');
  });

  it('follows daylight saving time', () => {
    expect(at('2026-07-01T15:30:00Z', 'h:mm A z', { timezone: 'America/New_York' })).toBe('11:30 AM EDT');
    expect(at('2026-12-01T15:30:00Z', 'h:mm A z', { timezone: 'America/New_York' })).toBe('10:30 AM EST');
    expect(at('2026-12-01T15:30:00Z', 'Z', { timezone: 'America/New_York' })).toBe('-05:00');
  });

  it('crosses the date line when the zone says so', () => {
    expect(at('2026-12-31T23:30:00Z', 'YYYY-MM-DD HH:mm', { timezone: 'Pacific/Auckland' })).toBe(
      '2027-01-01 12:30',
    );
  });

  it('accepts Date objects, epoch milliseconds, offsets and SQL timestamps', () => {
    const instant = Date.UTC(2026, 11, 1, 15, 30);
    expect(at(new Date(instant), 'YYYY-MM-DD HH:mm')).toBe('2026-12-01 15:30');
    expect(at(instant, 'YYYY-MM-DD HH:mm')).toBe('2026-12-01 15:30');
    expect(at('2026-12-01T10:30:00-05:00', 'HH:mm')).toBe('15:30');
    expect(at('2026-12-01 15:30:00', 'HH:mm')).toBe('15:30');
  });

  it('reads a time without an offset as wall-clock time in the render zone', () => {
    expect(at('2026-12-01T09:00:00', 'h:mm A Z', { timezone: 'America/Chicago' })).toBe('9:00 AM -06:00');
    expect(at('2026-12-01', 'MMM D h:mm A', { timezone: 'America/Chicago' })).toBe('Dec 1 12:00 AM');
  });

  it('names months and weekdays in the render locale', () => {
    expect(at('2026-12-01T15:30:00Z', 'dddd D MMMM', { locale: 'es' })).toBe('martes 1 diciembre');
    expect(at('2026-12-01T15:30:00Z', 'Do MMMM', { locale: 'fr' })).toBe('1. décembre');
  });

  it('keeps an unreadable date as given in lenient mode and fails in strict mode', () => {
    const report = renderWithReport(compileTemplate('{data.d|date|YYYY}'), { data: { d: 'next Tuesday' } });
    expect(report.text).toBe('next Tuesday');
    expect(report.problems[0]?.message).toMatch(/"data.d" is not a date/);
    const error = errorOf(() => at('next Tuesday', 'YYYY', { strict: true }));
    expect(error.code).toBe('bad_value');
    expect(error.position).toEqual({ line: 1, column: 1, offset: 0 });
  });

  it('refuses an unknown time zone or country before rendering', () => {
    expect(errorOf(() => at('2026-12-01', 'YYYY', { timezone: 'Mars/Olympus' })).message).toMatch(
      /unknown time zone "Mars\/Olympus"/,
    );
    expect(errorOf(() => at('2026-12-01', 'YYYY', { country: 'XX' })).code).toBe('bad_option');
  });
});

describe('chains', () => {
  it.each([
    ['{data.x|default|friend|upper}', 'FRIEND'],
    ['{data.first_name|default|friend|upper}', 'MARY'],
    ['{data.x|upper|default|friend}', 'friend'],
    ['{data.provider|lower|name}', 'Dr. John McDonald'],
    ['{data.provider|upper|lower|title}', 'Dr. John Mcdonald'],
    ['{data.appointment_date|date|dddd|upper|lower}', 'tuesday'],
    ['{data.x|default|2026-12-01T15:30:00Z|date|MM/DD}', '12/01'],
    ['{data.phone|phone|default|none}', '(555) 123-4567'],
  ])('%s -> %s', (source, expected) => {
    expect(renderTemplate(source, context)).toBe(expected);
  });
});

describe('unicode', () => {
  it('keeps emoji and accents in literals and values', () => {
    const data = { first_name: 'zoë', note: 'café ☕ 👩‍👩‍👧', last_name: 'NÚÑEZ' };
    expect(renderTemplate('¡Hola {data.first_name} {data.last_name}! 🎉 {data.note}', { data })).toBe(
      '¡Hola Zoë Núñez! 🎉 café ☕ 👩‍👩‍👧',
    );
  });

  it('upper-cases accented letters', () => {
    expect(renderTemplate('{data.x|upper}', { data: { x: 'crème brûlée' } })).toBe('CRÈME BRÛLÉE');
  });

  it('counts an emoji as one column in error positions', () => {
    const error = errorOf(() => compileTemplate('😀😀 {data.x|nope}'));
    expect(error.position).toEqual({ line: 1, column: 12, offset: 13 });
  });
});

describe('missing values', () => {
  it('renders a missing variable as empty and reports it', () => {
    const report = renderWithReport(compileTemplate('Hi {data.first_name}{data.nickname}{data.nickname}!'), {
      data: {},
    });
    expect(report.text).toBe('Hi !');
    expect(report.missing).toEqual(['data.first_name', 'data.nickname']);
  });

  it.each([
    ['{data.nested.plan.tier}', 'through a string'],
    ['{data.nested.nope}', 'absent nested key'],
    ['{company.name.first}', 'deeper than the value'],
    ['{message.id}', 'absent root'],
  ])('%s renders empty (%s)', (source) => {
    expect(renderTemplate(source, context)).toBe('');
  });

  it('treats null as missing', () => {
    expect(renderTemplate('[{data.x}]', { data: { x: null } })).toBe('[]');
  });

  it('renders missing values through functions as empty', () => {
    expect(renderTemplate('[{data.x|upper}{data.x|date|YYYY}{data.x|phone}{data.x|name}]', context)).toBe(
      '[]',
    );
  });

  it('throws in strict mode naming the variable and its position', () => {
    const error = errorOf(() =>
      renderTemplate(
        'Hi {data.first_name},\nsee {data.nickname}',
        { data: { first_name: 'A' } },
        { strict: true },
      ),
    );
    expect(error.code).toBe('missing_value');
    expect(error.message).toBe('missing value for "data.nickname" at line 2, column 5');
  });

  it('accepts a missing value covered by default in strict mode', () => {
    expect(renderTemplate('{data.x|upper|default|friend}', { data: {} }, { strict: true })).toBe('friend');
  });

  it('accepts an empty string in strict mode: it is present', () => {
    expect(renderTemplate('[{data.empty}]', context, { strict: true })).toBe('[]');
  });

  it('does not print objects or lists', () => {
    expect(renderTemplate('[{data.nested}]', context)).toBe('[]');
    expect(errorOf(() => renderTemplate('{data.nested}', context, { strict: true })).message).toMatch(
      /"data.nested" is an object, not a value/,
    );
    expect(
      errorOf(() => renderTemplate('{data.list}', { data: { list: [1] } }, { strict: true })).message,
    ).toMatch(/is a list/);
  });
});

describe('safety', () => {
  it.each([
    '{data.__proto__}',
    '{data.__proto__.polluted}',
    '{data.constructor}',
    '{constructor.constructor}',
    '{data.x.prototype}',
    '{company.constructor.name}',
  ])('refuses %s at compile time', (source) => {
    expect(errorOf(() => compileTemplate(source)).code).toBe('forbidden_path');
  });

  it('reads own properties only', () => {
    const data = Object.create({ inherited: 'secret' }) as Record<string, unknown>;
    data.own = 'visible';
    expect(renderTemplate('{data.own}{data.inherited}{data.toString}{data.hasOwnProperty}', { data })).toBe(
      'visible',
    );
    expect(renderTemplate('{data.length}', { data: 'abc' })).toBe('');
  });

  it('reads from a JSON-parsed context whose keys include __proto__ without polluting', () => {
    const parsed = JSON.parse('{"data": {"__proto__": {"x": "bad"}, "x": "good"}}') as Record<
      string,
      unknown
    >;
    expect(renderTemplate('{data.x}', parsed)).toBe('good');
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('limits roots to the configured set', () => {
    expect(errorOf(() => compileTemplate('{process.env}')).code).toBe('unknown_root');
    expect(errorOf(() => compileTemplate('{globalThis.x}')).code).toBe('unknown_root');
    expect(renderTemplate('{patient.name}', { patient: { name: 'Ann' } }, { roots: ['patient'] })).toBe(
      'Ann',
    );
    expect(errorOf(() => compileTemplate('{data.x}', { roots: ['patient'] })).code).toBe('unknown_root');
  });

  it('never evaluates tags inside values', () => {
    const data = { first_name: '{data.secret}', note: '{{x}} {company.name|upper} ${1+1} `x`', secret: 'S' };
    expect(renderTemplate('{data.note} {data.first_name}', { data, company: { name: 'c' } })).toBe(
      '{{x}} {company.name|upper} ${1+1} `x` {data.secret}',
    );
  });

  it('does not run code written as a function argument', () => {
    expect(renderTemplate('{data.x|default|$\\{process.exit()\\}}', { data: {} })).toBe('${process.exit()}');
  });

  it('escapes HTML in values for email but not the literal text', () => {
    const data = { bio: '<script>alert("x")</script>', note: "Tom & Jerry's" };
    expect(renderTemplate('<p>Hi {data.bio}</p> {data.note}', { data }, { channel: 'email' })).toBe(
      '<p>Hi &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</p> Tom &amp; Jerry&#39;s',
    );
  });

  it('escapes XML in values for voice and drops characters XML forbids', () => {
    const data = { note: 'A & B <break time="9s"/> \u0001\u000bend' };
    expect(renderTemplate('<Say>{data.note}</Say>', { data }, { channel: 'voice' })).toBe(
      '<Say>A &amp; B &lt;break time=&quot;9s&quot;/&gt; end</Say>',
    );
  });

  it('leaves values alone for SMS, and when escaping is switched off', () => {
    const data = { note: '<b>&' };
    expect(renderTemplate('{data.note}', { data }, { channel: 'sms' })).toBe('<b>&');
    expect(renderTemplate('{data.note}', { data }, { channel: 'email', escape: 'none' })).toBe('<b>&');
  });

  it('escapes the default text too, since it stands in for a value', () => {
    expect(renderTemplate('{data.x|default|<none>}', { data: {} }, { channel: 'email' })).toBe(
      '&lt;none&gt;',
    );
  });

  it('refuses a huge template at compile time', () => {
    const error = errorOf(() => compileTemplate('x'.repeat(70_000)));
    expect(error.code).toBe('too_long');
    expect(error.message).toMatch(/70000 characters long; the limit is 65536/);
  });

  it('refuses output over the limit, naming the tag that crossed it', () => {
    const compiled = compileTemplate('Hi {data.first_name} {data.note}');
    const error = errorOf(() => render(compiled, { data: { first_name: 'a', note: 'x'.repeat(100_000) } }));
    expect(error.code).toBe('too_long');
    expect(error.message).toBe('rendered message is longer than 65536 characters at line 1, column 22');
    expect(
      render(compiled, { data: { first_name: 'a', note: 'x'.repeat(10) } }, { maxLength: 20 }),
    ).toHaveLength(15);
    expect(() =>
      render(compiled, { data: { first_name: 'a', note: 'x'.repeat(20) } }, { maxLength: 20 }),
    ).toThrow(TemplateError);
  });

  it('counts escaped output against the limit', () => {
    const compiled = compileTemplate('{data.note}');
    expect(() =>
      render(compiled, { data: { note: '&'.repeat(20) } }, { channel: 'email', maxLength: 50 }),
    ).toThrow(/longer than 50/);
  });

  it('compiles a template with many tags quickly', () => {
    const source = 'Hi {data.first_name}! '.repeat(2_000);
    const started = performance.now();
    const compiled = compileTemplate(source);
    expect(render(compiled, context)).toHaveLength('Hi Mary! '.length * 2_000);
    expect(performance.now() - started).toBeLessThan(2_000);
  });
});

describe('syntax errors', () => {
  it.each([
    ['Hi {data.first_name', 'unclosed_tag', 1, 4, /unclosed tag "\{data.first_name"/],
    ['Hi {data.first_name\nthere}', 'unclosed_tag', 1, 4, /unclosed tag/],
    ['Hi {}', 'empty_tag', 1, 5, /empty tag/],
    ['Hi { }', 'empty_tag', 1, 6, /empty tag/],
    ['{|upper}', 'empty_tag', 1, 2, /no variable before "\|"/],
    ['Hi {data.first_name|}', 'syntax', 1, 20, /expected a function name after "\|"/],
    ['Hi {data.first_name|upper|}', 'syntax', 1, 26, /expected a function name/],
    ['a\nb } c', 'syntax', 2, 3, /unmatched "}"/],
    ['{data.{x}}', 'syntax', 1, 7, /unexpected "\{" inside a tag/],
    ['{data..x}', 'invalid_path', 1, 2, /invalid variable name "data..x"/],
    ['{data.first name}', 'invalid_path', 1, 2, /invalid variable name/],
    ['{data}', 'invalid_path', 1, 2, /"data" needs a field/],
    ['{data.x|dat|MM}', 'unknown_function', 1, 9, /unknown function "dat"/],
    ['{data.x|default}', 'wrong_argument_count', 1, 9, /"default" needs 1 argument/],
    [
      '{data.x|upper|friend}',
      'wrong_argument_count',
      1,
      15,
      /"upper" takes no arguments, but "friend" follows it/,
    ],
    ['{data.x|date|YYYY-MM-DD at h:mm}', 'bad_argument', 1, 26, /unknown date format token "t"/],
  ])('%j -> %s at %i:%i', (source, code, line, column, message) => {
    const error = errorOf(() => compileTemplate(source));
    expect(error).toBeInstanceOf(TemplateError);
    expect(error.code).toBe(code);
    expect(error.position).toMatchObject({ line, column });
    expect(error.message).toMatch(message);
  });

  it('words the unknown-function error with position and suggestion', () => {
    const error = errorOf(() =>
      compileTemplate('You have an appointment {data.appointment_date|dat|MM-DD-YYYY}'),
    );
    expect(error.message).toBe('unknown function "dat" at line 1, column 48 (did you mean "date"?)');
    expect(error.hint).toBe('did you mean "date"?');
  });
});

describe('resolveTemplate', () => {
  const row = (over: Partial<TemplateCandidate>): TemplateCandidate => ({
    scope: 'global',
    channel: 'sms',
    name: 'reminder',
    language: 'en',
    version: 1,
    body: 'global v1',
    ...over,
  });
  const rows: TemplateCandidate[] = [
    row({}),
    row({ version: 3, body: 'global v3' }),
    row({ language: 'es', body: 'global es' }),
    row({ scope: 'company', companyId: 7, body: 'company 7 v1' }),
    row({ scope: 'company', companyId: 7, version: 2, body: 'company 7 v2' }),
    row({ scope: 'company', companyId: 8, version: 9, body: 'company 8' }),
    row({ scope: 'customer', companyId: 7, customerId: 70, body: 'customer 70' }),
    row({ scope: 'customer', companyId: 8, customerId: 71, body: 'other company customer 71' }),
    row({ scope: 'company', companyId: 7, channel: 'email', body: 'company 7 email' }),
    row({ scope: 'company', companyId: 7, name: 'other', body: 'other name' }),
    row({ scope: 'company', companyId: 7, version: 5, active: false, body: 'inactive' }),
  ];
  const pick = (query: Partial<Parameters<typeof resolveTemplate>[1]>): string | undefined =>
    resolveTemplate(rows, { name: 'reminder', channel: 'sms', language: 'en', companyId: 7, ...query })?.body;

  it('prefers customer, then company, then global', () => {
    expect(pick({ customerId: 70 })).toBe('customer 70');
    expect(pick({ customerId: 71 })).toBe('company 7 v2');
    expect(pick({ companyId: 9 })).toBe('global v3');
  });

  it('takes the highest version and skips inactive rows', () => {
    expect(pick({})).toBe('company 7 v2');
    expect(pick({ companyId: '8' })).toBe('company 8');
  });

  it('matches channel and name', () => {
    expect(pick({ channel: 'email' })).toBe('company 7 email');
    expect(pick({ name: 'other' })).toBe('other name');
    expect(pick({ name: 'absent' })).toBeUndefined();
    expect(pick({ channel: 'voice' })).toBeUndefined();
  });

  it('prefers the recipient language in any scope, then English', () => {
    expect(pick({ language: 'es' })).toBe('global es');
    expect(pick({ language: 'es-MX' })).toBe('global es');
    expect(pick({ language: 'ES' })).toBe('global es');
    expect(pick({ language: 'fr', customerId: 70 })).toBe('customer 70');
  });

  it('matches ids given as numbers, strings or bigints alike', () => {
    expect(pick({ companyId: 7n, customerId: '70' })).toBe('customer 70');
  });
});

describe('properties', () => {
  const literal = fc.string({ unit: 'grapheme' }).filter((s) => !/[{}]/.test(s));

  it('renders a literal-only template unchanged', () => {
    fc.assert(
      fc.property(literal, (text) => {
        expect(renderTemplate(text, {})).toBe(text);
      }),
    );
  });

  it('round-trips any text through brace escaping', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (text) => {
        const escaped = text.replace(/\{/g, '{{').replace(/\}/g, '}}');
        expect(renderTemplate(escaped, {})).toBe(text);
      }),
    );
  });

  it('inserts any value verbatim for SMS', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), literal, (value, before) => {
        expect(renderTemplate(`${before}{data.note}`, { data: { note: value } })).toBe(before + value);
      }),
    );
  });

  it('never leaves markup characters from values in email output', () => {
    fc.assert(
      fc.property(fc.string(), (value) => {
        expect(renderTemplate('{data.note}', { data: { note: value } }, { channel: 'email' })).not.toMatch(
          /[<>"']/,
        );
      }),
    );
  });

  it('either compiles or throws a TemplateError with a position inside the source', () => {
    const piece = fc.constantFrom(
      '{',
      '}',
      '|',
      '.',
      'data',
      'x',
      ' ',
      '\\',
      'date',
      'upper',
      'YYYY',
      '\n',
      '__proto__',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 20 }), (pieces) => {
        const source = pieces.join('');
        try {
          compileTemplate(source);
        } catch (error) {
          expect(error).toBeInstanceOf(TemplateError);
          const offset = (error as TemplateError).position?.offset ?? -1;
          expect(offset).toBeGreaterThanOrEqual(0);
          expect(offset).toBeLessThanOrEqual(source.length);
        }
      }),
    );
  });

  it('is idempotent on names', () => {
    fc.assert(
      fc.property(fc.string(), (name) => {
        const once = properCaseName(name);
        expect(properCaseName(once)).toBe(once);
      }),
    );
  });
});
