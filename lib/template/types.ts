// The shapes shared by the parser, the function registry and the renderer.

export type Channel = 'sms' | 'voice' | 'email';
export type EscapeMode = 'html' | 'xml' | 'none';

/** A problem with one function argument; `offset` is relative to the start of that argument. */
export interface ArgumentIssue {
  severity: 'error' | 'warning';
  /** Which argument, 0-based; 0 when omitted. */
  arg?: number;
  reason: string;
  hint?: string;
  offset: number;
}

/** What a function's compile-time check returns: the prepared argument form and any problems found. */
export interface PreparedArguments<P> {
  prepared: P;
  issues: ArgumentIssue[];
}

/** Render-time settings a function may need; fixed for one render. */
export interface FunctionScope {
  /** IANA zone dates are shown in (the recipient's or the company's). */
  timezone: string;
  /** BCP 47 locale for month and weekday names. */
  locale: string;
  /** ISO 3166 alpha-2 country whose numbers are shown in national format. */
  country: string;
}

export interface FunctionParameter {
  name: string;
  description: string;
  /**
   * An optional argument is taken only when the next segment is not itself a function name, so
   * `{x|time|upper}` is time (default format) then upper, and `{x|time|h:mm A}` is time with a format.
   */
  optional?: boolean;
}

/**
 * What a field holds, as far as functions care: a date-time (an ISO instant, `data.appointment_date`),
 * a phone number, or text. Validation checks each function against the field's type.
 */
export type ValueType = 'text' | 'datetime' | 'phone';

export interface TemplateFunction<P = unknown> {
  name: string;
  summary: string;
  example: string;
  params: readonly FunctionParameter[];
  /** the value types the function works on; any when absent */
  accepts?: readonly ValueType[];
  /** what it gives back; the value's own type when absent (`default`) */
  returns?: ValueType;
  /** Only `default` runs on a missing value; every other function passes a missing value through. */
  acceptsMissing?: boolean;
  /** Checks the arguments once, at compile and validate time, and turns them into what `apply` needs. */
  prepare(args: readonly string[]): PreparedArguments<P>;
  /** Throws FunctionInputError when the value cannot be handled (e.g. not a date). */
  apply(value: unknown, prepared: P, scope: FunctionScope): unknown;
}

/** A value a function cannot work with; strict renders fail on it, lenient renders keep the value as is. */
export class FunctionInputError extends Error {
  override readonly name = 'FunctionInputError';
}
