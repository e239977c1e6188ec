// Files built to exhaust a worker (the input bombs): each must be refused while it streams, with an
// error naming the limit and the setting that raises it, and never retried. Used by the bad-input
// table and by the fault suite.
import { ehrRows, EHR_HEADER } from './ingest';
import { minimalWorkbook } from './workbook';

export interface BombFile {
  name: string;
  fileName: string;
  body(): Buffer;
  /** the packet's error */
  fails: RegExp;
}

const MiB = 1024 * 1024;
/** One good appointment row of the EHR map, after the header. */
const goodRow = () => ehrRows(1, 'P').split('\r\n')[1]!;

export const BOMB_FILES: BombFile[] = [
  {
    name: 'a header of 150,000 columns',
    fileName: 'wide.csv',
    body: () =>
      Buffer.from(
        [...EHR_HEADER, ...Array.from({ length: 150_000 - EHR_HEADER.length }, (_, i) => `x${i}`)].join(',') +
          `\r\n${goodRow()}\r\n`,
      ),
    fails:
      /^wide\.csv: row 1 has \d{6} values, over the limit of 1000 columns \(INGEST_MAX_COLUMNS\); .*raise INGEST_MAX_COLUMNS/,
  },
  {
    name: 'a 5 MB line without a newline',
    fileName: 'endless-line.csv',
    body: () => Buffer.from(EHR_HEADER.join(',') + '\r\n' + 'P1,' + 'y'.repeat(5 * MiB)),
    fails:
      /row 2, column "First Name": the value is longer than 1048576 characters, the limit for one value \(INGEST_MAX_LINE_CHARS\)/,
  },
  {
    name: 'JSON nested 100,000 levels deep',
    fileName: 'deep.ndjson',
    body: () =>
      Buffer.from(`{"Patient ID": "P1", "Notes": ${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}\n`),
    fails:
      /^deep\.ndjson: line 1 nests objects or arrays more than 32 levels deep at "Notes(\.a)+", the limit \(INGEST_MAX_JSON_DEPTH\)/,
  },
  {
    name: 'an .xlsx whose shared strings unpack to 40 MB',
    fileName: 'strings.xlsx',
    body: () => minimalWorkbook(undefined, `<si><t>${'x'.repeat(40 * MiB)}</t></si>`),
    fails:
      /shared strings \(xl\/sharedStrings\.xml\) unpack to 40 MB, over the 32 MB limit \(INGEST_MAX_XLSX_SHARED_STRINGS_MB\)/,
  },
];
