// Template problems: the issue shape shared by compile, validate and render, and the error they throw.

export interface TemplatePosition {
  /** 1-based line number. */
  line: number;
  /** 1-based column, counted in characters (code points) so an emoji earlier on the line counts once. */
  column: number;
  /** 0-based index into the source string (UTF-16 code units, as JavaScript indexes strings). */
  offset: number;
}

export type TemplateIssueCode =
  | 'syntax'
  | 'unclosed_tag'
  | 'empty_tag'
  | 'invalid_path'
  | 'forbidden_path'
  | 'unknown_root'
  | 'unknown_field'
  | 'unknown_function'
  | 'wrong_type'
  | 'wrong_argument_count'
  | 'bad_argument'
  | 'argument_warning'
  | 'non_gsm_text'
  | 'missing_value'
  | 'bad_value'
  | 'too_long'
  | 'bad_option';

export interface TemplateIssue {
  severity: 'error' | 'warning';
  code: TemplateIssueCode;
  /** What is wrong, naming the variable or function, without the position. */
  reason: string;
  /** A suggested fix, e.g. `did you mean "date"?`. */
  hint?: string;
  /** Where in the source; absent only for problems with the render options themselves. */
  position?: TemplatePosition;
  /** reason + position + hint, ready to show to a person. */
  message: string;
}

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
  readonly code: TemplateIssueCode;
  readonly reason: string;
  readonly hint: string | undefined;
  readonly position: TemplatePosition | undefined;

  constructor(issue: TemplateIssue) {
    super(issue.message);
    this.code = issue.code;
    this.reason = issue.reason;
    this.hint = issue.hint;
    this.position = issue.position;
  }

  toIssue(): TemplateIssue {
    return makeIssue('error', this.code, this.reason, this.position, this.hint);
  }
}

export function positionAt(source: string, offset: number): TemplatePosition {
  const before = source.slice(0, offset);
  const lineStart = before.lastIndexOf('\n') + 1;
  let line = 1;
  for (let i = before.indexOf('\n'); i !== -1; i = before.indexOf('\n', i + 1)) line++;
  // Array.from splits by code point, so a surrogate pair counts as one column.
  return { line, column: Array.from(before.slice(lineStart)).length + 1, offset };
}

export function makeIssue(
  severity: TemplateIssue['severity'],
  code: TemplateIssueCode,
  reason: string,
  position?: TemplatePosition,
  hint?: string,
): TemplateIssue {
  const where = position ? ` at line ${position.line}, column ${position.column}` : '';
  const message = `${reason}${where}${hint ? ` (${hint})` : ''}`;
  const issue: TemplateIssue = { severity, code, reason, message };
  if (hint !== undefined) issue.hint = hint;
  if (position !== undefined) issue.position = position;
  return issue;
}

export function templateError(
  code: TemplateIssueCode,
  reason: string,
  position?: TemplatePosition,
  hint?: string,
): TemplateError {
  return new TemplateError(makeIssue('error', code, reason, position, hint));
}
