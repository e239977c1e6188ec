// Text that is UTF-8 read as Windows-1252 ("JosÃ©" for "José"): found, and what it should have said.
import { isUtf8 } from 'node:buffer';

// Windows-1252's characters at 0x80-0x9F; the five bytes it leaves undefined read as the C1 control
// of the same number (as WHATWG decoders read them), so they map back to themselves.
const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';
const BYTE_OF = new Map<string, number>([...CP1252_HIGH].map((ch, i) => [ch, 0x80 + i]));

// A lead byte of a multi-byte UTF-8 sequence read as Windows-1252 (Â-ô), then a continuation byte.
const SUSPECT =
  /[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]/;
const NON_ASCII_RUN = /[^\p{ASCII}]+/gu;

function cp1252Bytes(run: string): Buffer | undefined {
  const bytes: number[] = [];
  for (const ch of run) {
    const code = ch.codePointAt(0)!;
    if (code >= 0xa0 && code <= 0xff) bytes.push(code);
    else {
      const byte = BYTE_OF.get(ch);
      if (byte === undefined) return undefined;
      bytes.push(byte);
    }
  }
  return Buffer.from(bytes);
}

/**
 * The text as it was meant, when some run of its non-ASCII characters is the Windows-1252 reading of
 * UTF-8 bytes; undefined when nothing in it reads that way. A run that is not such a reading (a real
 * "é") is left as it is, so mixed text is repaired only where it is garbled.
 */
export function repairGarbledText(text: string): string | undefined {
  if (!SUSPECT.test(text)) return undefined;
  let repaired = false;
  const fixed = text.replace(NON_ASCII_RUN, (run) => {
    const bytes = cp1252Bytes(run);
    if (!bytes || !isUtf8(bytes)) return run;
    const decoded = bytes.toString('utf8');
    if (decoded.length >= run.length) return run;
    repaired = true;
    return decoded;
  });
  return repaired ? fixed : undefined;
}
