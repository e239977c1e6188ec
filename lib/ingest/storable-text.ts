// Text Postgres cannot store (a NUL character, half of a UTF-16 surrogate pair): found per value, and made printable for reports.

/* eslint-disable no-control-regex -- finding the NUL character is the point */
// any NUL or surrogate at all: one quick scan, true for almost no value
const SUSPECT = /[\u0000\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/* eslint-enable no-control-regex */

/** Why a value cannot be stored as text, or undefined when it can. */
export function unstorableText(text: string): string | undefined {
  if (!SUSPECT.test(text)) return undefined;
  if (text.includes('\u0000'))
    return 'the value contains a NUL character (byte 0), which cannot be stored; remove it from the file';
  if (LONE_SURROGATE.test(text))
    return 'the value contains half of a UTF-16 surrogate pair (damaged text, e.g. from a UTF-16 export or a \\ud800 escape in JSON); correct it in the file';
  return undefined;
}

/** The text with each NUL and lone surrogate replaced by U+FFFD, so a report can store and show it. */
export function storableText(text: string): string {
  return SUSPECT.test(text) ? text.replace(UNSTORABLE, '\ufffd') : text;
}
