// Measures `herald loadmap suggest` on the sample exports and the suggest test fixtures against the mappings a person made.
// Run with `npm run measure:suggest`; the last line is the total. test/unit/load-map-suggest.test.ts holds it to its targets.
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../lib/config';
import { CONFIDENCE_THRESHOLD } from '../lib/load-maps/suggest';
import { describeMeasures, measureSuggestion, type SuggestMeasure } from '../lib/load-maps/suggest/measure';
import { suggestForFile } from '../lib/load-maps/suggest/sample';

export const EXPECTED_FILE = path.join(PROJECT_ROOT, 'test/fixtures/suggest/expected.json');

export async function measureSuggest(): Promise<SuggestMeasure[]> {
  const expected = JSON.parse(await readFile(EXPECTED_FILE, 'utf8')) as Record<
    string,
    Record<string, string | null>
  >;
  const measures: SuggestMeasure[] = [];
  for (const [file, columns] of Object.entries(expected)) {
    const full = path.join(PROJECT_ROOT, file);
    const { suggestion } = await suggestForFile(() => createReadStream(full), {
      filename: full,
      name: 'measured',
    });
    measures.push(measureSuggestion(file, suggestion, columns));
  }
  return measures;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const line of describeMeasures(await measureSuggest(), CONFIDENCE_THRESHOLD)) console.log(line);
}
