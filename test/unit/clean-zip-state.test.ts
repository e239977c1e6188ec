import { describe, expect, it } from 'vitest';
import { isValidTimezone } from '../../lib/clean/datetime';
import { US_STATES, type StateCode } from '../../lib/clean/us-states';
import {
  AREA_CODE_TIMEZONES,
  STATE_TIMEZONES,
  timezoneForPhone,
  timezoneForState,
} from '../../lib/clean/us-timezones';
import { stateForZip, stateForZipPrefix, ZIP_PREFIX_RANGES } from '../../lib/clean/zip-prefix';
import { cleanState, cleanZip } from '../../lib/clean/zip-state';

describe('ZIP cleaning', () => {
  it.each([
    ['02134', '02134'],
    ['2134', '02134'],
    [2134, '02134'],
    ['501', '00501'],
    [501, '00501'],
    ['90210', '90210'],
    [' 90210 ', '90210'],
    ['2134.0', '02134'],
    ['02134-1234', '02134-1234'],
    ['021341234', '02134-1234'],
    ['21341234', '02134-1234'],
    [21341234, '02134-1234'],
    ['2134-1234', '02134-1234'],
    ['02134 1234', '02134-1234'],
  ])('cleans %j to %j', (input, expected) => {
    expect(cleanZip(input)).toEqual({ ok: true, value: expected });
  });

  it('drops the +4 part when asked', () => {
    expect(cleanZip('02134-1234', { plus4: 'drop' })).toEqual({ ok: true, value: '02134' });
  });

  it.each(['ABCDE', '12', '123456', '02134-12', 'N/A', '9021O', '1234567890', '-2134'])(
    'rejects %j',
    (input) => {
      expect(cleanZip(input)).toEqual({
        ok: false,
        reason: `${JSON.stringify(input)} is not a ZIP code: expected 5 digits or ZIP+4`,
      });
    },
  );

  it('rejects ZIP codes in unassigned prefixes', () => {
    expect(cleanZip('00012')).toEqual({
      ok: false,
      reason: '"00012" is not a ZIP code: no US ZIP code starts with 000',
    });
    expect(cleanZip(69501)).toEqual({
      ok: false,
      reason: '"69501" is not a ZIP code: no US ZIP code starts with 695',
    });
    expect(cleanZip('42801')).toMatchObject({ ok: false });
    expect(cleanZip(2134.5)).toMatchObject({ ok: false });
    expect(cleanZip(' ')).toEqual({ ok: true, value: null });
  });
});

describe('state cleaning', () => {
  it.each([
    ['NY', 'NY'],
    ['ny', 'NY'],
    ['new york', 'NY'],
    ['New  York', 'NY'],
    ['N.Y.', 'NY'],
    ['Calif.', 'CA'],
    ['california', 'CA'],
    ['District of Columbia', 'DC'],
    ['Washington, D.C.', 'DC'],
    ['Washington', 'WA'],
    ['W. Va.', 'WV'],
    ['west virginia', 'WV'],
    ['Puerto Rico', 'PR'],
    ['PR', 'PR'],
    ['U.S. Virgin Islands', 'VI'],
    ['guam', 'GU'],
    ['American Samoa', 'AS'],
    ['Northern Mariana Islands', 'MP'],
    ['AE', 'AE'],
    ['Tex.', 'TX'],
    ['Mass', 'MA'],
  ])('reads %j as %s', (input, code) => {
    expect(cleanState(input)).toEqual({ ok: true, value: code });
  });

  it('rejects unknown states with a reason', () => {
    expect(cleanState('Nwe York')).toEqual({
      ok: false,
      reason: '"Nwe York" is not a US state or territory name or USPS code',
    });
    expect(cleanState('XX')).toMatchObject({ ok: false });
    expect(cleanState('Ontario')).toMatchObject({ ok: false });
    expect(cleanState(12)).toMatchObject({ ok: false });
    expect(cleanState('AP', { military: false })).toEqual({
      ok: false,
      reason: '"AP" is a military mail code, not a state',
    });
  });
});

describe('ZIP prefix table', () => {
  it.each([
    ['00501', 'NY'],
    ['00601', 'PR'],
    ['00802', 'VI'],
    ['02134', 'MA'],
    ['02903', 'RI'],
    ['05501', 'MA'],
    ['05401', 'VT'],
    ['06390', 'NY'],
    ['06103', 'CT'],
    ['09001', 'AE'],
    ['10001', 'NY'],
    ['20001', 'DC'],
    ['20166', 'VA'],
    ['20850', 'MD'],
    ['34002', 'AA'],
    ['33101', 'FL'],
    ['39901', 'GA'],
    ['56901', 'DC'],
    ['60601', 'IL'],
    ['73301', 'TX'],
    ['73101', 'OK'],
    ['79901', 'TX'],
    ['88510', 'TX'],
    ['89101', 'NV'],
    ['90210', 'CA'],
    ['96201', 'AP'],
    ['96813', 'HI'],
    ['96799', 'AS'],
    ['96910', 'GU'],
    ['96950', 'MP'],
    ['96960', 'MH'],
    ['96940', 'PW'],
    ['96941', 'FM'],
    ['97201', 'OR'],
    ['98101', 'WA'],
    ['99501', 'AK'],
    ['02134-1234', 'MA'],
  ])('puts %s in %s', (zip, state) => {
    expect(stateForZip(zip)).toBe(state);
  });

  it('has sorted, non-overlapping ranges of real codes', () => {
    let previous = -1;
    for (const { from, to, state } of ZIP_PREFIX_RANGES) {
      expect(from).toBeGreaterThan(previous);
      expect(to).toBeGreaterThanOrEqual(from);
      expect(US_STATES[state]).toBeDefined();
      previous = to;
    }
    expect(stateForZipPrefix('021')).toBe('MA');
    expect(stateForZipPrefix('000')).toBeUndefined();
    expect(stateForZip('abcde')).toBeUndefined();
  });

  it('covers every state and DC', () => {
    const covered = new Set(ZIP_PREFIX_RANGES.map((r) => r.state));
    for (const state of Object.keys(STATE_TIMEZONES).filter(
      (s) => !['AS', 'MP', 'FM', 'MH', 'PW'].includes(s),
    )) {
      expect(covered.has(state as StateCode), state).toBe(true);
    }
  });
});

describe('time zone tables', () => {
  it('gives every state and inhabited territory a valid IANA zone', () => {
    for (const code of Object.keys(US_STATES) as StateCode[]) {
      if (['AA', 'AE', 'AP'].includes(code)) continue;
      const zone = STATE_TIMEZONES[code];
      expect(zone, code).toBeDefined();
      expect(isValidTimezone(zone!), `${code} ${zone}`).toBe(true);
    }
    expect(timezoneForState('ca')).toBe('America/Los_Angeles');
    expect(timezoneForState('AE')).toBeUndefined();
  });

  it('has at least one area code per state, each with a valid zone', () => {
    const states = new Set([...AREA_CODE_TIMEZONES.values()].map((info) => info.state));
    for (const code of Object.keys(STATE_TIMEZONES)) {
      if (['FM', 'MH', 'PW'].includes(code)) continue;
      expect(states.has(code as StateCode), code).toBe(true);
    }
    for (const [code, info] of AREA_CODE_TIMEZONES) {
      expect(code).toMatch(/^[2-9]\d\d$/);
      expect(isValidTimezone(info.timezone), `${code} ${info.timezone}`).toBe(true);
    }
  });

  it('knows all area codes of Hawaii, Alaska and Arizona and the big states', () => {
    expect(timezoneForPhone('808')).toBe('Pacific/Honolulu');
    expect(timezoneForPhone('907')).toBe('America/Anchorage');
    for (const code of ['480', '520', '602', '623', '928'])
      expect(timezoneForPhone(code)).toBe('America/Phoenix');
    for (const code of ['212', '718', '917', '347', '646', '516', '631', '914', '716', '585'])
      expect(timezoneForPhone(code)).toBe('America/New_York');
    for (const code of ['213', '310', '415', '408', '619', '714', '818', '916', '949', '510'])
      expect(timezoneForPhone(code)).toBe('America/Los_Angeles');
    for (const code of ['214', '713', '512', '210', '817', '972', '832'])
      expect(timezoneForPhone(code)).toBe('America/Chicago');
    for (const code of ['305', '407', '813', '904', '954', '561'])
      expect(timezoneForPhone(code)).toBe('America/New_York');
    for (const code of ['312', '773', '847', '630', '708', '217'])
      expect(timezoneForPhone(code)).toBe('America/Chicago');
  });

  it('uses the local zone where an area code lies across a state line of zones', () => {
    expect(timezoneForPhone('+19155550100')).toBe('America/Denver');
    expect(timezoneForPhone('865')).toBe('America/New_York');
    expect(timezoneForPhone('615')).toBe('America/Chicago');
    expect(timezoneForPhone('+14155552671')).toBe('America/Los_Angeles');
    expect(timezoneForPhone('+442079460958')).toBeUndefined();
    expect(timezoneForPhone('555')).toBeUndefined();
  });
});
