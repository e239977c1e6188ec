// Splits JSON text into records without holding the whole file: one per NDJSON line or top-level array element.
import { INGEST_LIMIT_SETTINGS } from '../../schemas/ingest-limits';
import { ParseError } from './types';

export interface JsonRecord {
  /** NDJSON: the line number; JSON array: the element's position, 1 for the first. */
  rowNumber: number;
  value: unknown;
}

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d, 0xfeff]);

function parseJson(text: string, where: string, rowNumber: number): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    // the runtime's message quotes the text around the fault; the error reaches logs, Temporal and
    // webhooks, which must not carry the file's content, so only the position is kept
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    throw new ParseError(
      'invalid-json',
      `${where} is not valid JSON${position === undefined ? '' : ` (character ${Number(position) + 1})`}; check its quotes, commas and brackets`,
      rowNumber,
    );
  }
}

function tooLong(where: string, rowNumber: number, max: number): ParseError {
  return new ParseError(
    'field-too-large',
    `${where} is longer than ${max} characters, the limit for one record (${INGEST_LIMIT_SETTINGS.maxLineChars}); raise ${INGEST_LIMIT_SETTINGS.maxLineChars} if its records really are that long`,
    rowNumber,
  );
}

/** One record per non-blank line; blank lines count in line numbers. */
export async function* splitNdjson(
  texts: AsyncIterable<string>,
  maxRecordLength: number,
): AsyncGenerator<JsonRecord> {
  let pending = '';
  let lineNumber = 0;
  const record = (line: string): JsonRecord | undefined => {
    lineNumber += 1;
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.length > maxRecordLength) throw tooLong(`line ${lineNumber}`, lineNumber, maxRecordLength);
    return text.trim() === ''
      ? undefined
      : { rowNumber: lineNumber, value: parseJson(text, `line ${lineNumber}`, lineNumber) };
  };
  for await (const chunk of texts) {
    const text = pending + chunk;
    let start = 0;
    for (let end = text.indexOf('\n'); end !== -1; end = text.indexOf('\n', start)) {
      const parsed = record(text.slice(start, end));
      start = end + 1;
      if (parsed) yield parsed;
    }
    pending = text.slice(start);
    if (pending.length > maxRecordLength)
      throw tooLong(`line ${lineNumber + 1}`, lineNumber + 1, maxRecordLength);
  }
  const last = pending === '' ? undefined : record(pending);
  if (last) yield last;
}

type ArrayState = 'start' | 'open' | 'comma' | 'element' | 'end';

/**
 * The elements of a top-level JSON array, each parsed on its own: a small scanner tracks strings,
 * escapes and nesting depth to find where each element ends, so memory holds one element at a time.
 */
export async function* splitJsonArray(
  texts: AsyncIterable<string>,
  maxRecordLength: number,
): AsyncGenerator<JsonRecord> {
  let state = 'start' as ArrayState;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let parts: string[] = [];
  let partsLength = 0;
  let index = 0;
  const where = (): string => `element ${index} of the array`;

  for await (const chunk of texts) {
    let elementStart = state === 'element' ? 0 : -1;
    for (let i = 0; i < chunk.length; i += 1) {
      const c = chunk.charCodeAt(i);
      if (state === 'element') {
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 0x5c) escaped = true;
          else if (c === 0x22) inString = false;
          continue;
        }
        if (c === 0x22) inString = true;
        else if (c === 0x7b || c === 0x5b) depth += 1;
        else if ((c === 0x7d || c === 0x5d) && depth > 0) depth -= 1;
        else if (depth === 0 && (c === 0x2c || c === 0x5d)) {
          const text = parts.join('') + chunk.slice(elementStart, i);
          parts = [];
          partsLength = 0;
          if (text.length > maxRecordLength) throw tooLong(where(), index, maxRecordLength);
          yield { rowNumber: index, value: parseJson(text, where(), index) };
          state = c === 0x2c ? 'comma' : 'end';
        }
        continue;
      }
      if (WHITESPACE.has(c)) continue;
      if (state === 'start') {
        if (c !== 0x5b)
          throw new ParseError('invalid-json', 'the file does not start with [ (a JSON array of objects)');
        state = 'open';
      } else if (state === 'open' && c === 0x5d) {
        state = 'end';
      } else if (state === 'open' || state === 'comma') {
        if (c === 0x5d)
          throw new ParseError(
            'invalid-json',
            `the array has a comma after element ${index} and no element after it`,
            index,
          );
        index += 1;
        state = 'element';
        depth = 0;
        elementStart = i;
        i -= 1; // read this first character again as part of the element
      } else {
        throw new ParseError(
          'invalid-json',
          `unexpected ${JSON.stringify(chunk[i])} after the end of the array`,
        );
      }
    }
    if (state === 'element') {
      const piece = chunk.slice(elementStart);
      parts.push(piece);
      partsLength += piece.length;
      if (partsLength > maxRecordLength) throw tooLong(where(), index, maxRecordLength);
    }
  }
  if (state === 'start') throw new ParseError('empty-file', 'the file is empty');
  if (state !== 'end')
    throw new ParseError(
      'invalid-json',
      `the array is never closed: the file ends inside or after element ${index}; it may be cut short`,
      index,
    );
}
