import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACT_PATHS } from '../../lib/log';

describe('logging', () => {
  it('redacts personal data wherever it sits in a log object', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(chunk.toString()), done()) });
    const log = pino({ redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink);
    log
      .child({ packetId: 'p-1', companyId: 7 })
      .info(
        { phone: '+15551234567', contact: { email: 'ann@example.com', first_name: 'Ann' }, rows: 3 },
        'loaded',
      );
    const entry = JSON.parse(lines[0]!);
    expect(entry.packetId).toBe('p-1');
    expect(entry.companyId).toBe(7);
    expect(entry.rows).toBe(3);
    expect(entry.phone).toBe('[redacted]');
    expect(entry.contact.email).toBe('[redacted]');
    expect(entry.contact.first_name).toBe('[redacted]');
    expect(lines[0]).not.toContain('5551234567');
  });
});
