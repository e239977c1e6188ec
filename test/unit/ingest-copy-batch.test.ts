import { describe, expect, it } from 'vitest';
import { CopyBatch } from '../../lib/ingest/copy';

// Collects what a batch hands over, as COPY would receive it.
function feed(batch: CopyBatch, lines: string[]): Buffer[] {
  const sent: Buffer[] = [];
  for (const line of lines) {
    const full = batch.add(line);
    if (full) sent.push(full);
  }
  const last = batch.take();
  if (last) sent.push(last);
  return sent;
}

describe('CopyBatch', () => {
  it('hands over every line, in order, as UTF-8, in pieces no larger than its size', () => {
    const lines = Array.from({ length: 500 }, (_, i) => `${i}\tZoë 🎉 ${'é'.repeat(i % 40)}\n`);
    const sent = feed(new CopyBatch(1024), lines);
    expect(sent.length).toBeGreaterThan(10);
    for (const piece of sent) expect(piece.length).toBeLessThanOrEqual(1024);
    expect(Buffer.concat(sent).toString('utf8')).toBe(lines.join(''));
  });

  it('takes a line longer than its size whole, after handing over what came before it', () => {
    const long = `${'a'.repeat(5000)}\n`;
    const sent = feed(new CopyBatch(1024), ['first\n', long, 'last\n']);
    expect(sent[0]!.toString('utf8')).toBe('first\n');
    expect(sent[1]!.toString('utf8').startsWith(long)).toBe(true);
    expect(Buffer.concat(sent).toString('utf8')).toBe(`first\n${long}last\n`);
  });

  it('has nothing to hand over when no line was added, and does not reuse a buffer it handed over', () => {
    const batch = new CopyBatch(64);
    expect(batch.take()).toBeUndefined();
    batch.add('one\n');
    const first = batch.take()!;
    batch.add('two\n');
    batch.take();
    expect(first.toString('utf8')).toBe('one\n');
  });
});
