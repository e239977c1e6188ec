import { describe, expect, it } from 'vitest';
import { cleanEmail } from '../../lib/clean/email';

describe('email cleaning', () => {
  it.each([
    ['  John.Smith@Example.COM ', 'john.smith@example.com'],
    ['a+tag@mail.example.co.uk', 'a+tag@mail.example.co.uk'],
    ['mailto:Ann@Example.org', 'ann@example.org'],
    ['<bob@example.com>', 'bob@example.com'],
    ["o'brien@example.ie", "o'brien@example.ie"],
    ['x@xn--bcher-kva.example', 'x@xn--bcher-kva.example'],
    ['first_last-1@sub-domain.example.io', 'first_last-1@sub-domain.example.io'],
  ])('cleans %j to %j', (input, expected) => {
    expect(cleanEmail(input)).toEqual({ ok: true, value: expected });
  });

  it.each([
    ['john smith@example.com', 'it contains a space'],
    ['john.example.com', 'it has no @'],
    ['a@b@example.com', 'it has more than one @'],
    ['@example.com', 'nothing before the @'],
    ['john@', 'nothing after the @'],
    ['john@localhost', 'the domain "localhost" has no top-level part such as .com'],
    ['john..smith@example.com', 'the part before the @ has a misplaced dot'],
    ['.john@example.com', 'the part before the @ has a misplaced dot'],
    ['john@example..com', 'the domain "example..com" has an empty part'],
    ['john@-example.com', 'the domain part "-example" is not valid'],
    ['john@example.c', '"c" is not a top-level domain'],
    ['john@example.123', '"123" is not a top-level domain'],
    ['jo(hn)@example.com', 'the part before the @ has a character addresses cannot contain'],
  ])('rejects %j: %s', (input, problem) => {
    expect(cleanEmail(input)).toEqual({
      ok: false,
      reason: `${JSON.stringify(input)} is not a valid email address: ${problem}`,
    });
  });

  it('rejects over-long addresses and non-text cells', () => {
    expect(cleanEmail(`${'a'.repeat(65)}@example.com`)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('longer than 64'),
    });
    expect(cleanEmail(`a@${`${'b'.repeat(60)}.`.repeat(5)}com`)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('254'),
    });
    expect(cleanEmail(12)).toMatchObject({ ok: false });
  });

  it('passes blanks through as null', () => {
    expect(cleanEmail(' ')).toEqual({ ok: true, value: null });
  });
});
