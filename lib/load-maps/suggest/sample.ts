// Reads the header and first rows of an export for `suggest`; of a workbook, the sheet that reads best.
import { openRows, type ByteSource, type CellValue, type FileFormat } from '../../parse';
import { suggestLoadMap, type Suggestion, type SuggestInput } from './index';

export interface Sample {
  headers: string[];
  rows: Record<string, CellValue>[];
  format: FileFormat;
  /** a workbook's sheet read, and all its sheets */
  sheet?: { name: string; all: readonly string[] };
}

export const SAMPLE_ROWS = 200;

export async function readSample(
  open: () => ByteSource,
  opts: { filename: string; sheet?: string; rows?: number },
): Promise<Sample> {
  const reader = await openRows(open(), { filename: opts.filename, xlsx: { sheet: opts.sheet } });
  const rows: Record<string, CellValue>[] = [];
  try {
    for await (const row of reader.rows()) {
      rows.push(row.values);
      if (rows.length >= (opts.rows ?? SAMPLE_ROWS)) break;
    }
  } finally {
    await reader.close();
  }
  return {
    headers: [...reader.headers],
    rows,
    format: reader.format,
    ...(reader.sheet ? { sheet: { name: reader.sheet.name, all: reader.sheet.all } } : {}),
  };
}

/**
 * The suggestion for a file: for a workbook without a chosen sheet, every sheet is read and the one
 * whose columns match the most fields wins (a cover sheet before the data is common).
 */
export async function suggestForFile(
  open: () => ByteSource,
  opts: { filename: string; sheet?: string; rows?: number; name: string; company?: string },
): Promise<{ suggestion: Suggestion; sample: Sample }> {
  const suggest = (sample: Sample) =>
    suggestLoadMap({
      name: opts.name,
      company: opts.company,
      headers: sample.headers,
      rows: sample.rows,
      format: {
        kind: sample.format,
        ...(sample.sheet && sample.sheet.all.length > 1 ? { sheet: sample.sheet.name } : {}),
      } as SuggestInput['format'],
      source: opts.filename.split('/').pop(),
    });
  const first = await readSample(open, opts);
  let best = { sample: first, suggestion: suggest(first) };
  if (!opts.sheet && first.sheet && first.sheet.all.length > 1) {
    for (const sheet of first.sheet.all.slice(1)) {
      const sample = await readSample(open, { ...opts, sheet });
      const suggestion = suggest(sample);
      const matched = (s: Suggestion) => s.columns.filter((c) => c.field).length;
      if (matched(suggestion) > matched(best.suggestion)) best = { sample, suggestion };
    }
  }
  return best;
}
