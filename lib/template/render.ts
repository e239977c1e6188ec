// Renders a compiled template against one recipient's context, escaped for the channel.

import { isSupportedCountry } from 'libphonenumber-js';
import { DateTime } from 'luxon';
import { makeIssue, positionAt, TemplateError, templateError, type TemplateIssue } from './errors';
import { escapeModeFor, escapeValue } from './escape';
import { properCaseName } from '../name-case';
import type { CompiledTemplate, TagNode } from './parse';
import { FunctionInputError, type Channel, type EscapeMode, type FunctionScope } from './types';
import { isMissing, valueToText } from './value';

export const MAX_OUTPUT_LENGTH = 65_536;

/** The roots (data, company, ...) mapped to plain objects; only their own properties are read. */
export type TemplateContext = Readonly<Record<string, unknown>>;

export interface RenderOptions {
  /** Picks the escaping: email -> HTML, voice -> XML (SSML/TwiML), sms -> none. Default sms. */
  channel?: Channel;
  /** Overrides the channel's escaping, e.g. 'none' for the plain-text part of an email. */
  escape?: EscapeMode;
  /** IANA zone for dates; the recipient's, else the company's. Default UTC. */
  timezone?: string;
  /** Locale for month and weekday names. Default en-US. */
  locale?: string;
  /** Home country for `phone` (national format there, international elsewhere). Default US. */
  country?: string;
  /** Throw on a missing variable (unless `default` covers it) or on a value a function cannot read. */
  strict?: boolean;
  /** Longest allowed output, in UTF-16 code units. Default 65,536. */
  maxLength?: number;
}

export interface RenderReport {
  text: string;
  /** Variables that were absent and rendered empty (lenient mode), once each. */
  missing: string[];
  /** Values a function could not read and that were kept as given (lenient mode). */
  problems: TemplateIssue[];
}

/** Zones already found valid: checking one asks Intl for an offset, which is slow enough to matter per message. */
const knownZones = new Set<string>();

function readScope(options: RenderOptions): FunctionScope {
  const timezone = options.timezone ?? 'UTC';
  const locale = options.locale ?? 'en-US';
  const country = (options.country ?? 'US').toUpperCase();
  if (!knownZones.has(timezone)) {
    if (!DateTime.now().setZone(timezone).isValid)
      throw templateError('bad_option', `unknown time zone "${timezone}"`);
    knownZones.add(timezone);
  }
  if (!isSupportedCountry(country)) throw templateError('bad_option', `unknown country "${country}"`);
  return { timezone, locale, country };
}

/** Own properties only: a context built from JSON can never reach Object.prototype through a path. */
function lookup(context: TemplateContext, path: readonly string[]): unknown {
  let current: unknown = context;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

interface RenderState {
  source: string;
  context: TemplateContext;
  scope: FunctionScope;
  strict: boolean;
  report: RenderReport;
}

function renderTag(tag: TagNode, { source, context, scope, strict, report }: RenderState): string {
  let value = lookup(context, tag.path);
  if (isMissing(value)) {
    const covered = tag.pipes.some((pipe) => pipe.fn.acceptsMissing);
    if (strict && !covered)
      throw templateError(
        'missing_value',
        `missing value for "${tag.variable}"`,
        positionAt(source, tag.offset),
      );
    if (!covered && !report.missing.includes(tag.variable)) report.missing.push(tag.variable);
  }
  if (tag.autoName && typeof value === 'string') value = properCaseName(value);
  try {
    for (const pipe of tag.pipes) {
      // A missing value flows past every function until a `default` fills it in.
      if (isMissing(value) && !pipe.fn.acceptsMissing) continue;
      value = pipe.fn.apply(value, pipe.prepared, scope);
    }
    return valueToText(value);
  } catch (error) {
    if (!(error instanceof FunctionInputError)) throw error;
    const issue = makeIssue(
      'error',
      'bad_value',
      `"${tag.variable}" ${error.message}`,
      positionAt(source, tag.offset),
    );
    if (strict) throw new TemplateError(issue);
    report.problems.push(issue);
    try {
      return valueToText(value);
    } catch {
      return '';
    }
  }
}

export function renderWithReport(
  compiled: CompiledTemplate,
  context: TemplateContext,
  options: RenderOptions = {},
): RenderReport {
  const scope = readScope(options);
  const mode = options.escape ?? escapeModeFor(options.channel ?? 'sms');
  const max = options.maxLength ?? MAX_OUTPUT_LENGTH;
  const report: RenderReport = { text: '', missing: [], problems: [] };
  const state: RenderState = {
    source: compiled.source,
    context,
    scope,
    strict: options.strict ?? false,
    report,
  };
  const pieces: string[] = [];
  let length = 0;
  for (const node of compiled.nodes) {
    const piece = node.kind === 'text' ? node.text : escapeValue(renderTag(node, state), mode);
    length += piece.length;
    // Checked as we go, so a 50 MB value is refused before it is copied into the output.
    if (length > max) {
      const position = positionAt(compiled.source, node.offset);
      throw templateError('too_long', `rendered message is longer than ${max} characters`, position);
    }
    pieces.push(piece);
  }
  report.text = pieces.join('');
  return report;
}

/** Values are inserted as text and never parsed again, so a value containing "{data.x}" stays literal. */
export function render(
  compiled: CompiledTemplate,
  context: TemplateContext,
  options: RenderOptions = {},
): string {
  return renderWithReport(compiled, context, options).text;
}
