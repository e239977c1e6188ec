// Scores a suggestion against the mapping a person made for the same file: columns right, and wrong ones the suggestion was sure of.
import type { Suggestion } from './index';

export interface SuggestMeasure {
  file: string;
  columns: number;
  right: number;
  /** every column the suggestion got wrong: a field that is not the column's, or none where it has one */
  wrong: { column: string; expected: string | null; suggested: string | null; confidence: number }[];
  /** wrong columns the suggestion mapped (at or above the threshold): the mistakes an operator could miss */
  wrongAboveThreshold: number;
}

/** `expected` names each column's field, null for a column that stays an extra. */
export function measureSuggestion(
  file: string,
  suggestion: Suggestion,
  expected: Readonly<Record<string, string | null>>,
): SuggestMeasure {
  const wrong: SuggestMeasure['wrong'] = [];
  for (const c of suggestion.columns) {
    if (!(c.column in expected))
      throw new Error(`${file}: no expected field for column ${JSON.stringify(c.column)}`);
    const want = expected[c.column] ?? null;
    if (c.field !== want)
      wrong.push({ column: c.column, expected: want, suggested: c.field, confidence: c.confidence });
  }
  const columns = suggestion.columns.length;
  return {
    file,
    columns,
    right: columns - wrong.length,
    wrong,
    wrongAboveThreshold: wrong.filter((w) => w.suggested !== null).length,
  };
}

/** One line per file and a last line with the totals, as `npm run measure:suggest` prints them. */
export function describeMeasures(measures: readonly SuggestMeasure[], threshold: number): string[] {
  const columns = measures.reduce((n, m) => n + m.columns, 0);
  const right = measures.reduce((n, m) => n + m.right, 0);
  const sure = measures.reduce((n, m) => n + m.wrongAboveThreshold, 0);
  return [
    ...measures.flatMap((m) => [
      `${m.file}: ${m.right}/${m.columns} columns right`,
      ...m.wrong.map(
        (w) =>
          `  ${JSON.stringify(w.column)}: suggested ${w.suggested ?? 'extra'} (${w.confidence}), expected ${w.expected ?? 'extra'}`,
      ),
    ]),
    `suggest: files=${measures.length} columns=${columns} right=${right} (${((100 * right) / Math.max(columns, 1)).toFixed(1)}%) wrong_above_threshold=${sure} threshold=${threshold}`,
  ];
}
