import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../lib/log';
import { maskContactDetails } from '../../lib/log-redaction';

function capture() {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(chunk.toString()), done()) });
  return { log: createLogger({ level: 'info', destination: sink }), lines };
}

describe('logging', () => {
  it('redacts personal data at any depth, and keeps ids, counts and names of things', () => {
    const { log, lines } = capture();
    log.child({ packetId: 'p-1', companyId: 7 }).info(
      {
        phone: '+15551234567',
        rows: 3,
        source: { name: 'nightly-drop' },
        deep: { er: { still: { deeper: { to_address: 'ann@example.com', Address: 'ann@example.com' } } } },
        contact: { email: 'ann@example.com', first_name: 'Ann', lastName: 'Lee' },
      },
      'loaded',
    );
    const entry = JSON.parse(lines[0]!);
    expect(entry).toMatchObject({ packetId: 'p-1', companyId: 7, rows: 3, source: { name: 'nightly-drop' } });
    expect(entry.phone).toBe('[redacted]');
    expect(entry.deep.er.still.deeper).toEqual({ to_address: '[redacted]', Address: '[redacted]' });
    expect(entry.contact).toEqual({ email: '[redacted]', first_name: '[redacted]', lastName: '[redacted]' });
    expect(lines[0]).not.toMatch(/5551234567|ann@example|"Ann"|"Lee"/);
  });

  it('writes an error as its type, codes and message with contact details masked, and its cause', () => {
    const { log, lines } = capture();
    const vendor = Object.assign(
      new Error("The 'To' number +1 (617) 555-0123 is not a valid phone number."),
      {
        code: 21211,
        status: 400,
        details: { to: '+16175550123' },
      },
    );
    const err = new Error('could not email ann@example.com', { cause: vendor });
    err.name = 'SendFailed';
    log.error({ err, attempt: { error: vendor } }, 'send failed');
    log.error(err, 'send failed again');
    for (const line of lines) {
      expect(line).not.toMatch(/555-0123|5550123|ann@example/);
      const entry = JSON.parse(line);
      expect(entry.err).toMatchObject({
        type: 'SendFailed',
        message: 'could not email [email]',
        cause: {
          type: 'Error',
          code: 21211,
          status: 400,
          message: "The 'To' number [phone] is not a valid phone number.",
        },
      });
      expect(entry.err.stack).toMatch(/^\s+at /);
    }
  });

  it('masks phone numbers and email addresses in text, not ids, dates or counts', () => {
    expect(
      maskContactDetails(
        'to +16175550123, (617) 555-0123, 617.555.0123 or 6175550123; ann.lee+x@mail.example.org',
      ),
    ).toBe('to [phone], [phone], [phone] or [phone]; [email]');
    const plain =
      'packet 277abf68-3653-4f45-a04d-210f353557d6 at 2026-12-06T05:27:58.463Z: 40 rows, row 1500';
    expect(maskContactDetails(plain)).toBe(plain);
  });

  it('survives cycles', () => {
    const { log, lines } = capture();
    const loop: Record<string, unknown> = { id: 1 };
    loop.self = loop;
    log.info({ loop }, 'cycle');
    expect(JSON.parse(lines[0]!).loop).toEqual({ id: 1, self: '[circular]' });
  });
});
