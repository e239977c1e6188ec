// Splits template source into literal text and tags, each tag into its `|`-separated segments.

import { makeIssue, positionAt, type TemplateIssue } from './errors';

export interface RawSegment {
  /** The segment with escapes resolved (`\|` -> `|`), untrimmed. */
  text: string;
  /** Offset in the source of the segment's first character. */
  offset: number;
  /** Source offset of each UTF-16 unit of `text`, so positions stay right after an escape. */
  offsets: number[];
}

export type RawToken =
  | { kind: 'text'; text: string; offset: number; end: number }
  | { kind: 'tag'; offset: number; end: number; segments: RawSegment[] };

export interface ScanResult {
  tokens: RawToken[];
  issues: TemplateIssue[];
}

// Inside a tag a backslash escapes these, so a default text or date format can contain them.
const TAG_ESCAPABLE = new Set(['|', '}', '{', '\\']);

/**
 * Literal text is copied verbatim except `{{` -> `{` and `}}` -> `}`. A tag runs from `{` to the next
 * unescaped `}` on the same line: a newline or end of input inside a tag almost always means a
 * forgotten `}`, and reporting that at the `{` beats swallowing the rest of the message.
 */
export function scanTemplate(source: string): ScanResult {
  const tokens: RawToken[] = [];
  const issues: TemplateIssue[] = [];
  let text = '';
  let textStart = 0;
  let i = 0;

  const flushText = (): void => {
    if (text !== '') tokens.push({ kind: 'text', text, offset: textStart, end: i });
    text = '';
  };

  while (i < source.length) {
    const ch = source[i];
    if (ch === '{' && source[i + 1] === '{') {
      if (text === '') textStart = i;
      text += '{';
      i += 2;
    } else if (ch === '}' && source[i + 1] === '}') {
      if (text === '') textStart = i;
      text += '}';
      i += 2;
    } else if (ch === '}') {
      issues.push(
        makeIssue('error', 'syntax', 'unmatched "}"', positionAt(source, i), 'write "}}" for a literal "}"'),
      );
      i += 1;
    } else if (ch === '{') {
      flushText();
      const tag = scanTag(source, i, issues);
      if (tag) tokens.push(tag);
      i = tag ? tag.end : skipBrokenTag(source, i);
      textStart = i;
    } else {
      if (text === '') textStart = i;
      text += ch;
      i += 1;
    }
  }
  flushText();
  return { tokens, issues };
}

function scanTag(source: string, open: number, issues: TemplateIssue[]): RawToken | undefined {
  const segments: RawSegment[] = [];
  let current = '';
  let offsets: number[] = [];
  let segmentStart = open + 1;
  let i = open + 1;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '\\' && TAG_ESCAPABLE.has(source[i + 1] ?? '')) {
      current += source[i + 1];
      offsets.push(i + 1);
      i += 2;
    } else if (ch === '|') {
      segments.push({ text: current, offset: segmentStart, offsets });
      current = '';
      offsets = [];
      segmentStart = i + 1;
      i += 1;
    } else if (ch === '}') {
      segments.push({ text: current, offset: segmentStart, offsets });
      return { kind: 'tag', offset: open, end: i + 1, segments };
    } else if (ch === '{') {
      issues.push(
        makeIssue(
          'error',
          'syntax',
          'unexpected "{" inside a tag',
          positionAt(source, i),
          'close the tag opened before it with "}"',
        ),
      );
      return undefined;
    } else if (ch === '\n' || ch === '\r') {
      break;
    } else {
      current += ch;
      offsets.push(i);
      i += 1;
    }
  }
  const opened = source.slice(open, Math.min(i, open + 30));
  issues.push(
    makeIssue(
      'error',
      'unclosed_tag',
      `unclosed tag "${opened}${i > open + 30 ? '...' : ''}": "{" has no matching "}"`,
      positionAt(source, open),
      'close it with "}" on the same line, or write "{{" for a literal "{"',
    ),
  );
  return undefined;
}

/** After a broken tag, resume at the next line or the next "{" so later tags are still checked. */
function skipBrokenTag(source: string, open: number): number {
  let i = open + 1;
  while (i < source.length && source[i] !== '\n' && source[i] !== '{') i++;
  return i;
}
