// Guesses a CSV file's delimiter and line break from its first lines, looking only outside quotes.

export const DELIMITERS = [',', ';', '|', '\t'] as const;
export type Delimiter = (typeof DELIMITERS)[number];
export type LineBreak = '\r\n' | '\n' | '\r';

interface SampleLine {
  counts: Map<string, number>;
  blank: boolean;
}

// Splits the sample into lines at breaks outside quotes, counting candidate delimiters on each.
function scanLines(sample: string, complete: boolean, maxLines: number): SampleLine[] {
  const lines: SampleLine[] = [];
  let counts = new Map<string, number>();
  let quoted = false;
  let blank = true;
  for (let i = 0; i < sample.length && lines.length < maxLines; i += 1) {
    const ch = sample[i]!;
    if (ch === '"') {
      quoted = !quoted;
      blank = false;
    } else if (!quoted && (ch === '\n' || ch === '\r')) {
      if (ch === '\r' && sample[i + 1] === '\n') i += 1;
      lines.push({ counts, blank });
      counts = new Map();
      blank = true;
    } else if (!quoted) {
      if ((DELIMITERS as readonly string[]).includes(ch)) counts.set(ch, (counts.get(ch) ?? 0) + 1);
      if (ch !== ' ') blank = false;
    }
  }
  // The sample may stop inside a line; only the whole file's last line is whole without a break.
  if (complete && !blank && lines.length < maxLines) lines.push({ counts, blank });
  return lines.filter((line) => !line.blank);
}

/**
 * The delimiter that appears on the header line and the same number of times on most other lines;
 * ties go to the one appearing most on the header line. A file with none of them has one column (",").
 */
export function detectDelimiter(sample: string, complete: boolean): Delimiter {
  const lines = scanLines(sample, complete, 50);
  const [header, ...rest] = lines;
  if (!header) return ',';
  let best: { delimiter: Delimiter; consistency: number; count: number } | undefined;
  for (const delimiter of DELIMITERS) {
    const count = header.counts.get(delimiter) ?? 0;
    if (count === 0) continue;
    const consistent = rest.filter((line) => (line.counts.get(delimiter) ?? 0) === count).length;
    const consistency = rest.length === 0 ? 1 : consistent / rest.length;
    if (!best || consistency > best.consistency || (consistency === best.consistency && count > best.count)) {
      best = { delimiter, consistency, count };
    }
  }
  return best?.delimiter ?? ',';
}

/** The first line break outside quotes; "\n" when the sample has none. */
export function detectLineBreak(sample: string): LineBreak {
  let quoted = false;
  for (let i = 0; i < sample.length; i += 1) {
    const ch = sample[i];
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === '\r') return sample[i + 1] === '\n' ? '\r\n' : '\r';
    else if (!quoted && ch === '\n') return '\n';
  }
  return '\n';
}
