// The two ways a reader hands its rows over: in batches (as the CSV parser reads them), or one at a time.
import type { ParsedRow } from './types';

/** Rows one at a time, from batches. */
export async function* oneByOne(batches: AsyncIterable<readonly ParsedRow[]>): AsyncGenerator<ParsedRow> {
  for await (const batch of batches) yield* batch;
}

/** Rows in batches of one, for a reader that reads them one at a time. */
export async function* inBatchesOfOne(rows: AsyncIterable<ParsedRow>): AsyncGenerator<readonly ParsedRow[]> {
  for await (const row of rows) yield [row];
}
