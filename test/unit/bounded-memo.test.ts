// The bounded memo cleaning, quiet hours and templates remember their answers in: what it keeps, and that it never holds more than its bound.
import { describe, expect, it } from 'vitest';
import { BoundedMemo, detachedText } from '../../lib/bounded-memo';

describe('BoundedMemo', () => {
  it('answers what it was told, and nothing for a key it was not', () => {
    const memo = new BoundedMemo<number, string>(3);
    expect(memo.set(1, 'one')).toBe('one');
    expect(memo.get(1)).toBe('one');
    expect(memo.get(2)).toBeUndefined();
  });

  it('forgets everything once full, then remembers again up to its bound', () => {
    const memo = new BoundedMemo<string, number>(2);
    memo.set('a', 1);
    memo.set('b', 2);
    // the third key finds it full: the first two are forgotten, the third is kept
    memo.set('c', 3);
    expect([memo.get('a'), memo.get('b'), memo.get('c')]).toEqual([undefined, undefined, 3]);
    memo.set('d', 4);
    expect([memo.get('c'), memo.get('d')]).toEqual([3, 4]);
  });

  it('keeps a falsy answer as an answer', () => {
    const memo = new BoundedMemo<number, number>(2);
    memo.set(0, 0);
    expect(memo.get(0)).toBe(0);
  });
});

describe('detachedText', () => {
  it('is the same text', () => {
    const piece = 'Smith,Jane,02134\n'.repeat(100);
    const cell = piece.slice(6, 10);
    expect(detachedText(cell)).toBe('Jane');
    expect(detachedText('')).toBe('');
  });
});
