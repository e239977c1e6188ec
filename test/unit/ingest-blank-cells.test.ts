import { describe, expect, it } from 'vitest';
import { blankCellRule } from '../../lib/ingest/blank-cells';
import { compileLoadMap } from '../../lib/load-maps/compile';

const map = {
  name: 'm',
  fields: {
    first_name: { column: 'First' },
    last_name: { column: 'Last' },
    phone: { column: ['Cell', 'Home'] },
    email: { column: 'E-mail' },
    language: { default: 'en' },
  },
};

describe('blankCellRule', () => {
  it('keeps by default: nothing is cleared', () => {
    const rule = blankCellRule(compileLoadMap(map, 'm'), ['First', 'Last', 'Cell', 'E-mail']);
    expect([...rule.clears]).toEqual([]);
    expect([...rule.read]).toEqual(['first_name', 'last_name', 'phone', 'email']);
    expect(rule.clearsExtras).toBe(false);
  });

  it('clears only fields the file has a column for (any alternative, compared as headers are), never a default', () => {
    const rule = blankCellRule(compileLoadMap({ ...map, blankCells: 'clear' }, 'm'), [
      'first',
      'LAST',
      'home',
    ]);
    expect([...rule.clears]).toEqual(['first_name', 'last_name', 'phone']);
    expect(rule.clearsExtras).toBe(true);
  });

  it('counts every mapped field as read for a packet staged before the header was kept', () => {
    expect([...blankCellRule(compileLoadMap(map, 'm'), undefined).read]).toEqual([
      'first_name',
      'last_name',
      'phone',
      'email',
    ]);
  });
});
