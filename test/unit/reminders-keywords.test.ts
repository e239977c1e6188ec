import { describe, expect, it } from 'vitest';
import { classifyDigits, classifyReply, contactStatusOf, normalizeReply } from '../../lib/reminders/keywords';

describe('reply keywords', () => {
  it.each([
    'STOP',
    'stop',
    ' Stop. ',
    'STOPALL',
    'stop all',
    'UNSUBSCRIBE',
    'cancel',
    'END',
    'quit',
    'REVOKE',
    'OPTOUT',
    'opt-out',
    'Opt out',
  ])('%j opts out', (text) => {
    expect(classifyReply(text).kind).toBe('opt_out');
  });

  it('marks STOPALL as every company on the number', () => {
    expect(classifyReply('STOPALL')).toEqual({ kind: 'opt_out', keyword: 'STOPALL', all: true });
    expect(classifyReply('stop')).toEqual({ kind: 'opt_out', keyword: 'STOP', all: false });
  });

  it.each(['START', 'unstop', 'Yes', 'YES!'])('%j opts back in', (text) => {
    expect(classifyReply(text).kind).toBe('opt_in');
  });

  it.each(['C', 'c', 'Y', 'y', '1', 'confirm', 'Confirmed.'])('%j confirms', (text) => {
    expect(classifyReply(text)).toEqual({ kind: 'confirm' });
  });

  it.each(['2', 'N', 'n', 'no'])('%j cancels the appointment', (text) => {
    expect(classifyReply(text)).toEqual({ kind: 'cancel' });
  });

  it.each(['R', 'r', 'reschedule'])('%j asks to reschedule', (text) => {
    expect(classifyReply(text)).toEqual({ kind: 'reschedule' });
  });

  it('lets carrier keywords win over the reminder answers', () => {
    // CANCEL is a carrier opt-out word, not "cancel my appointment"; YES is opt-in, not a confirmation
    expect(classifyReply('CANCEL').kind).toBe('opt_out');
    expect(classifyReply('YES').kind).toBe('opt_in');
    expect(classifyReply('Y').kind).toBe('confirm');
  });

  it.each(['stop by at 3', 'Can I come at 4?', 'CC', '12', '', 'thanks!', 'yes please'])(
    '%j is kept as a raw response',
    (text) => {
      expect(classifyReply(text)).toEqual({ kind: 'other' });
    },
  );

  it('normalizes width, quotes and punctuation', () => {
    expect(normalizeReply('＂ＳＴＯＰ＂')).toBe('STOP');
    expect(normalizeReply('"stop!"')).toBe('STOP');
  });

  it('reads the digits of a call', () => {
    expect(classifyDigits('1')).toEqual({ kind: 'confirm' });
    expect(classifyDigits('2')).toEqual({ kind: 'cancel' });
    expect(classifyDigits('9')).toEqual({ kind: 'other' });
  });

  it('names each outcome as the message contact status', () => {
    expect(contactStatusOf(classifyReply('STOP'))).toBe('opted_out');
    expect(contactStatusOf(classifyReply('C'))).toBe('confirmed');
    expect(contactStatusOf(classifyReply('N'))).toBe('cancelled');
    expect(contactStatusOf(classifyReply('R'))).toBe('reschedule');
    expect(contactStatusOf(classifyReply('hello'))).toBe('other');
    expect(contactStatusOf(classifyReply('START'))).toBe('opted_in');
  });
});
