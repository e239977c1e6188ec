// Tells a file's format from its first bytes (and its name only when the bytes cannot say).
import { bomOf } from './decode';
import { ParseError } from './types';

export type FileFormat = 'csv' | 'xlsx' | 'json' | 'ndjson';

const startsWith = (bytes: Uint8Array, magic: readonly number[]): boolean =>
  magic.every((b, i) => bytes[i] === b);

const REFUSED: { magic: number[]; what: string }[] = [
  {
    magic: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1],
    what: 'a legacy .xls (Excel 97-2003) or password-protected workbook; save it as .xlsx or CSV without a password',
  },
  { magic: [0x1f, 0x8b], what: 'gzip-compressed; send it uncompressed' },
  { magic: [0x25, 0x50, 0x44, 0x46], what: 'a PDF; send the data as CSV or .xlsx' },
];

function firstCharacter(bytes: Uint8Array): string | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const bom = bomOf(buffer);
  const body = buffer.subarray(bom?.length ?? 0);
  let text: string;
  if (bom?.encoding === 'utf-16le') text = body.toString('utf16le');
  else if (bom?.encoding === 'utf-16be') text = Buffer.from(body).swap16().toString('utf16le');
  // Without a BOM, zero bytes mark UTF-16; dropping them leaves the ASCII this test needs.
  else text = body.toString('latin1').replace(/\0/g, '');
  return text.trimStart()[0];
}

function byName(filename: string | undefined): FileFormat {
  const extension = filename?.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1];
  if (extension === 'xlsx' || extension === 'xlsm') return 'xlsx';
  if (extension === 'json') return 'json';
  if (extension === 'ndjson' || extension === 'jsonl') return 'ndjson';
  return 'csv';
}

/** zip magic: xlsx; "[": JSON array; "{": NDJSON; otherwise CSV. Refuses formats it knows it cannot read. */
export function detectFormat(firstBytes: Uint8Array, filename?: string): FileFormat {
  if (firstBytes.length === 0) return byName(filename);
  if (startsWith(firstBytes, [0x50, 0x4b, 0x03, 0x04]) || startsWith(firstBytes, [0x50, 0x4b, 0x05, 0x06]))
    return 'xlsx';
  const refused = REFUSED.find(({ magic }) => startsWith(firstBytes, magic));
  if (refused) throw new ParseError('unsupported-format', `the file is ${refused.what}`);
  const first = firstCharacter(firstBytes);
  if (first === '[') return 'json';
  if (first === '{') return 'ndjson';
  return first === undefined ? byName(filename) : 'csv';
}
