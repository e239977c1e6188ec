// Cleaning rule for email addresses: trim, lowercase and check the practical shape local@domain.tld.
import { fail, isBlank, ok, quote, type CleanResult } from './result';

// The RFC allows far more (quoted locals, IP literals); mail providers and SES do not, so neither do we.
const LOCAL_PART = /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const TOP_LEVEL = /^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

export function cleanEmail(value: unknown): CleanResult<string | null> {
  if (isBlank(value)) return ok(null);
  if (typeof value !== 'string') return fail(`${quote(value)} is not an email address: expected text`);
  // Exports often wrap the address as "mailto:..." or "<...>"; neither is part of the address.
  const email = value
    .trim()
    .replace(/^mailto:/i, '')
    .replace(/^<(.*)>$/, '$1')
    .toLowerCase();
  const problem = emailProblem(email);
  return problem ? fail(`${quote(value)} is not a valid email address: ${problem}`) : ok(email);
}

function emailProblem(email: string): string | undefined {
  if (/\s/.test(email)) return 'it contains a space';
  const at = email.split('@');
  if (at.length === 1) return 'it has no @';
  if (at.length > 2) return 'it has more than one @';
  const [local = '', domain = ''] = at;
  if (local === '') return 'nothing before the @';
  if (domain === '') return 'nothing after the @';
  if (email.length > 254) return 'it is longer than 254 characters';
  if (local.length > 64) return 'the part before the @ is longer than 64 characters';
  if (!LOCAL_PART.test(local)) {
    return local.includes('..') || local.startsWith('.') || local.endsWith('.')
      ? 'the part before the @ has a misplaced dot'
      : 'the part before the @ has a character addresses cannot contain';
  }
  const labels = domain.split('.');
  if (labels.length < 2) return `the domain "${domain}" has no top-level part such as .com`;
  const badLabel = labels.find((label) => !DOMAIN_LABEL.test(label));
  if (badLabel !== undefined) {
    return badLabel === ''
      ? `the domain "${domain}" has an empty part`
      : `the domain part "${badLabel}" is not valid`;
  }
  if (!TOP_LEVEL.test(labels[labels.length - 1]!))
    return `"${labels[labels.length - 1]}" is not a top-level domain`;
  return undefined;
}
