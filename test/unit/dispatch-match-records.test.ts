import { describe, expect, it } from 'vitest';
import { matchRecords } from '../../lib/dispatch/match-records';

const record = (id: string) => ({ providerMessageId: id });

describe('telling which vendor records are which of our messages', () => {
  it('finds none sent when the vendor holds nothing that could be them, whoever else is in flight', () => {
    expect(matchRecords({ messages: 2, records: [], exact: false, unrecordedElsewhere: 3 })).toEqual({
      kind: 'none',
    });
  });

  it('matches one message to the one record that can only be it', () => {
    expect(
      matchRecords({ messages: 1, records: [record('CA1')], exact: false, unrecordedElsewhere: 0 }),
    ).toEqual({
      kind: 'each',
      results: [record('CA1')],
    });
  });

  it('sends two calls to one family phone when both are there, without giving either the other one’s id', () => {
    expect(
      matchRecords({
        messages: 2,
        records: [record('CA1'), record('CA2')],
        exact: false,
        unrecordedElsewhere: 0,
      }),
    ).toEqual({ kind: 'all' });
  });

  it('does not guess when another send of ours to the number could be one of the records', () => {
    expect(
      matchRecords({ messages: 1, records: [record('CA1')], exact: false, unrecordedElsewhere: 1 }).kind,
    ).toBe('unclear');
  });

  it('does not guess when fewer records than messages are there, or more', () => {
    expect(
      matchRecords({ messages: 2, records: [record('CA1')], exact: false, unrecordedElsewhere: 0 }).kind,
    ).toBe('unclear');
    expect(
      matchRecords({
        messages: 1,
        records: [record('CA1'), record('CA2')],
        exact: false,
        unrecordedElsewhere: 0,
      }).kind,
    ).toBe('unclear');
  });

  it('takes what a lookup by our own id finds as that message', () => {
    expect(
      matchRecords({ messages: 1, records: [record('OB1')], exact: true, unrecordedElsewhere: 5 }),
    ).toEqual({
      kind: 'each',
      results: [record('OB1')],
    });
  });
});
