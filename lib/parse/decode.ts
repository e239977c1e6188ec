// Turns file bytes into text: byte-order marks, UTF-8 (checked), UTF-16 and Windows-1252 via iconv-lite.
import { isAscii, isUtf8 } from 'node:buffer';
import iconv from 'iconv-lite';
import { ParseError } from './types';

/** `auto` reads a BOM, then UTF-16 by its zero bytes, then UTF-8, falling back to Windows-1252. */
export type TextEncoding = 'auto' | 'utf-8' | 'utf-16le' | 'utf-16be' | 'windows-1252' | (string & {});

const BOMS: { bytes: number[]; encoding: 'utf-8' | 'utf-16le' | 'utf-16be' }[] = [
  { bytes: [0xef, 0xbb, 0xbf], encoding: 'utf-8' },
  { bytes: [0xff, 0xfe], encoding: 'utf-16le' },
  { bytes: [0xfe, 0xff], encoding: 'utf-16be' },
];

export function bomOf(
  head: Buffer,
): { encoding: 'utf-8' | 'utf-16le' | 'utf-16be'; length: number } | undefined {
  const bom = BOMS.find(({ bytes }) => bytes.every((b, i) => head[i] === b));
  return bom && { encoding: bom.encoding, length: bom.bytes.length };
}

// ASCII text in UTF-16 without a BOM has a zero byte in every pair: first (BE) or second (LE).
function utf16ByZeros(head: Buffer): 'utf-16le' | 'utf-16be' | undefined {
  const pairs = Math.min(64, Math.floor(head.length / 2));
  if (pairs < 2) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < pairs * 2; i += 2) {
    if (head[i] === 0 && head[i + 1] !== 0) evenZeros += 1;
    if (head[i + 1] === 0 && head[i] !== 0) oddZeros += 1;
  }
  if (oddZeros >= pairs * 0.9) return 'utf-16le';
  if (evenZeros >= pairs * 0.9) return 'utf-16be';
  return undefined;
}

// Length of the prefix that does not end inside a multi-byte sequence (the rest waits for the next chunk).
function completeUtf8Length(buffer: Buffer): number {
  let i = buffer.length - 1;
  let continuation = 0;
  while (i >= 0 && continuation < 3 && (buffer[i]! & 0xc0) === 0x80) {
    i -= 1;
    continuation += 1;
  }
  if (i < 0) return buffer.length;
  const lead = buffer[i]!;
  const needed = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return buffer.length - i < needed ? i : buffer.length;
}

// Where the first invalid UTF-8 byte is; only called once isUtf8 has said there is one.
function firstInvalidUtf8(buffer: Buffer): number {
  for (let i = 0; i < buffer.length;) {
    const lead = buffer[i]!;
    if (lead < 0x80) {
      i += 1;
      continue;
    }
    const length =
      lead >= 0xc2 && lead <= 0xdf
        ? 2
        : lead >= 0xe0 && lead <= 0xef
          ? 3
          : lead >= 0xf0 && lead <= 0xf4
            ? 4
            : 0;
    if (length === 0 || i + length > buffer.length) return i;
    const second = buffer[i + 1]!;
    // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are invalid too.
    if (
      (lead === 0xe0 && second < 0xa0) ||
      (lead === 0xed && second > 0x9f) ||
      (lead === 0xf0 && second < 0x90) ||
      (lead === 0xf4 && second > 0x8f)
    )
      return i;
    for (let k = 1; k < length; k += 1) if ((buffer[i + k]! & 0xc0) !== 0x80) return i;
    i += length;
  }
  return buffer.length;
}

function iconvName(encoding: string): string {
  const name = encoding.toLowerCase();
  if (name === 'windows-1252' || name === 'cp1252') return 'win1252';
  if (name === 'utf-16le') return 'utf16le';
  if (name === 'utf-16be') return 'utf16be';
  return name;
}

async function* decodeWithIconv(
  chunks: AsyncIterator<Buffer>,
  first: Buffer,
  encoding: string,
): AsyncGenerator<string> {
  const decoder = iconv.getDecoder(iconvName(encoding) as 'utf8', { stripBOM: false });
  if (first.length > 0) yield decoder.write(first);
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) {
    const text = decoder.write(next.value);
    if (text) yield text;
  }
  const rest = decoder.end();
  if (rest) yield rest;
}

/**
 * UTF-8, checked chunk by chunk. In `auto` mode a file whose first invalid byte comes before any
 * non-ASCII byte is Windows-1252 (both read ASCII alike, so the switch loses nothing); invalid bytes
 * after real UTF-8 text mean a damaged or mixed file, which is refused rather than guessed at.
 */
async function* decodeUtf8(
  chunks: AsyncIterator<Buffer>,
  first: Buffer,
  fallback: boolean,
): AsyncGenerator<string> {
  let carry: Buffer = Buffer.alloc(0);
  let sawNonAscii = false;
  let offset = 0;
  let buffer: Buffer | undefined = first;
  while (buffer !== undefined) {
    const joined = carry.length > 0 ? Buffer.concat([carry, buffer]) : buffer;
    const cut = completeUtf8Length(joined);
    const complete = joined.subarray(0, cut);
    if (!isUtf8(complete)) {
      const invalid = firstInvalidUtf8(complete);
      if (fallback && !sawNonAscii && isAscii(complete.subarray(0, invalid))) {
        yield* decodeWithIconv(chunks, joined, 'windows-1252');
        return;
      }
      throw new ParseError(
        'encoding',
        `the file is not valid UTF-8 (byte ${offset + invalid} of the text)${fallback ? ' after UTF-8 text earlier on; it mixes encodings' : ''}; save it as UTF-8, or set the encoding (e.g. windows-1252) in the load map`,
      );
    }
    if (!sawNonAscii && !isAscii(complete)) sawNonAscii = true;
    if (complete.length > 0) yield complete.toString('utf8');
    offset += complete.length;
    carry = joined.subarray(cut);
    const next = await chunks.next();
    buffer = next.done ? undefined : next.value;
  }
  if (carry.length > 0) {
    if (fallback && !sawNonAscii) {
      yield iconv.decode(carry, 'win1252');
      return;
    }
    throw new ParseError(
      'encoding',
      `the file ends in the middle of a UTF-8 character (byte ${offset}); it may be truncated`,
    );
  }
}

/** Decodes a byte stream to text chunks, dropping any byte-order mark. */
export async function* decodeText(
  source: AsyncIterable<Buffer>,
  encoding: TextEncoding = 'auto',
): AsyncGenerator<string> {
  const chunks = source[Symbol.asyncIterator]();
  try {
    let head: Buffer = Buffer.alloc(0);
    // A BOM or the UTF-16 zero pattern needs a few bytes; chunks are rarely this small, but can be.
    while (head.length < 128) {
      const next = await chunks.next();
      if (next.done) break;
      head = head.length === 0 ? next.value : Buffer.concat([head, next.value]);
    }
    const bom = bomOf(head);
    const body = bom ? head.subarray(bom.length) : head;
    const mode = encoding.toLowerCase();
    const chosen = mode === 'auto' ? (bom?.encoding ?? utf16ByZeros(head) ?? 'auto') : mode;
    if (
      chosen !== 'auto' &&
      chosen !== 'utf-8' &&
      chosen !== 'utf8' &&
      !iconv.encodingExists(iconvName(chosen))
    ) {
      throw new ParseError(
        'encoding',
        `unknown encoding ${JSON.stringify(encoding)}; use utf-8, utf-16le, utf-16be or windows-1252`,
      );
    }
    if (chosen === 'auto' || chosen === 'utf-8' || chosen === 'utf8')
      yield* decodeUtf8(chunks, body, chosen === 'auto');
    else yield* decodeWithIconv(chunks, body, chosen);
  } finally {
    await chunks.return?.();
  }
}
