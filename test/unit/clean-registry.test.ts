import { describe, expect, it } from 'vitest';
import {
  CLEAN_RULES,
  compileRule,
  compileRules,
  parseLocalDate,
  parseTimeOfDay,
  type CleanFunction,
} from '../../lib/clean';
import { cleanText } from '../../lib/clean/text';

const compiled = (spec: unknown): CleanFunction => {
  const result = compileRule(spec);
  if (!result.ok) throw new Error(result.reason);
  return result.clean;
};

describe('cleaning rule registry', () => {
  it('builds each rule from its load-map spec', () => {
    expect(compiled({ rule: 'phone', defaultCountry: 'US' })('(415) 555-2671')).toEqual({
      ok: true,
      value: '+14155552671',
    });
    expect(compiled({ rule: 'name', part: 'family' })('DE LA CRUZ')).toEqual({
      ok: true,
      value: 'de la Cruz',
    });
    expect(compiled({ rule: 'email' })(' A@B.COM ')).toEqual({ ok: true, value: 'a@b.com' });
    expect(compiled({ rule: 'zip', plus4: 'drop' })('021341234')).toEqual({ ok: true, value: '02134' });
    expect(compiled({ rule: 'state' })('new york')).toEqual({ ok: true, value: 'NY' });
    expect(compiled({ rule: 'date' })('7/4/76')).toEqual({ ok: true, value: '1976-07-04' });
    expect(compiled({ rule: 'text', maxLength: 5 })('  a   b ')).toEqual({ ok: true, value: 'a b' });
    expect(compiled({ rule: 'time' })('2:30 PM')).toEqual({ ok: true, value: '14:30:00' });
  });

  it('applies onInvalid: reject, keep the raw value, or blank it', () => {
    expect(compiled({ rule: 'phone' })('555-12')).toEqual({
      ok: false,
      reason: '"555-12" is not a valid phone number for country US',
    });
    expect(compiled({ rule: 'phone', onInvalid: 'reject' })('555-12')).toMatchObject({ ok: false });
    expect(compiled({ rule: 'phone', onInvalid: 'keep' })('555-12')).toEqual({ ok: true, value: '555-12' });
    expect(compiled({ rule: 'phone', onInvalid: 'blank' })('555-12')).toEqual({ ok: true, value: null });
    expect(compiled({ rule: 'zip', onInvalid: 'keep' })(12)).toEqual({ ok: true, value: '12' });
  });

  it('takes the time zone and country from the context when the rule leaves them out', () => {
    const datetime = compiled({ rule: 'datetime' });
    expect(datetime('03/15/2026 2:30 PM', { timezone: 'America/Chicago' })).toEqual({
      ok: true,
      value: '2026-03-15T19:30:00.000Z',
    });
    expect(datetime(['03/15/2026', '2:30 PM'], { timezone: 'America/Chicago' })).toEqual({
      ok: true,
      value: '2026-03-15T19:30:00.000Z',
    });
    expect(datetime('03/15/2026')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('no time zone'),
    });
    const own = compiled({
      rule: 'datetime',
      timezone: 'America/New_York',
      formats: ['MM/DD/YYYY', 'h:mm A'],
    });
    expect(own('03/15/2026 2:30 PM', { timezone: 'America/Chicago' })).toEqual({
      ok: true,
      value: '2026-03-15T18:30:00.000Z',
    });
    expect(compiled({ rule: 'phone' })('020 7946 0958', { defaultCountry: 'GB' })).toEqual({
      ok: true,
      value: '+442079460958',
    });
  });

  it('rejects unknown rules, unknown options and bad option values with a sentence naming them', () => {
    expect(compileRule({ rule: 'phon' })).toEqual({
      ok: false,
      reason: expect.stringMatching(/^unknown rule "phon"; known rules: text, name, phone/),
    });
    expect(compileRule({ rule: 'phone', defaultCounty: 'US' })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('defaultCounty'),
    });
    expect(compileRule({ rule: 'phone', onInvalid: 'drop' })).toEqual({
      ok: false,
      reason: 'rule phone: onInvalid must be reject, keep or blank',
    });
    expect(compileRule({ rule: 'datetime', timezone: 'Mars/Base' })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('timezone: must be an IANA time zone'),
    });
    expect(compileRule({ rule: 'datetime', formats: ['YYYY'] })).toMatchObject({
      ok: false,
      reason: expect.stringContaining('formats'),
    });
    expect(compileRule('phone')).toMatchObject({ ok: false });
  });

  it("chains a field's rules in order and stops at the first failure", () => {
    const chain = compileRules([{ rule: 'text' }, { rule: 'name' }]);
    expect(chain.ok && chain.clean('  JOHN   SMITH ')).toEqual({ ok: true, value: 'John Smith' });
    const bad = compileRules([{ rule: 'text' }, { rule: 'nope' }]);
    expect(bad).toMatchObject({ ok: false, reason: expect.stringMatching(/^rule 2: unknown rule/) });
    const none = compileRules([]);
    expect(none.ok && none.clean(42)).toEqual({ ok: true, value: '42' });
  });

  it('describes every rule', () => {
    for (const [name, definition] of Object.entries(CLEAN_RULES)) {
      expect(definition.description.length, name).toBeGreaterThan(10);
    }
  });

  it('text rule caps length', () => {
    expect(cleanText('abcdef', { maxLength: 5 })).toEqual({
      ok: false,
      reason: '"abcdef" is longer than 5 characters',
    });
  });

  it('answers a date or time cell it has seen before exactly as the first time (their memo of texts)', () => {
    const formats = ['MM/DD/YYYY', 'M/D/YY', 'YYYY-MM-DD'] as const;
    const date = compiled({ rule: 'date', formats });
    const time = compiled({ rule: 'time' });
    const dates = ['03/15/2026', '3/5/26', '2026-02-30', 'soon', ' 2026-03-15 ', '13/01/2026', '', 46096];
    const times = ['2:30 PM', '14:30', '25:00', 'noon', 0.5, '  9:00 am'];
    for (let round = 0; round < 2; round += 1) {
      for (const value of dates) expect(date(value)).toEqual(parseLocalDate(value, { formats }));
      for (const value of times) expect(time(value)).toEqual(parseTimeOfDay(value));
      // more distinct texts than the memo holds, so the second round reads its cells again
      for (let i = 0; i < 12_000; i += 1) time(`${i % 24}:${String(i % 60).padStart(2, '0')}:${i}`);
    }
  });
});
