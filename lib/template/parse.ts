// Compiles template source into an AST once, so each of many renders only walks it.

import { makeIssue, positionAt, TemplateError, type TemplateIssue, type TemplatePosition } from './errors';
import { findTemplateFunction, TEMPLATE_FUNCTIONS } from './functions';
import { scanTemplate, type RawSegment } from './scan';
import { closestMatch } from './suggest';
import type { TemplateFunction } from './types';

/** The objects a template may read from; anything else is an error, so a typo is caught at save time. */
export const DEFAULT_ROOTS: readonly string[] = [
  'data',
  'company',
  'customer',
  'location',
  'contact',
  'message',
];

/**
 * Fields that hold proper names: their values are name-cased before any function runs, so
 * `{data.first_name}` shows "Mary" for "MARY". Matched on the last path segment, whatever the root.
 */
export const AUTO_NAME_FIELDS: readonly string[] = [
  'first_name',
  'last_name',
  'middle_name',
  'location',
  'provider',
];

export const MAX_SOURCE_LENGTH = 65_536;

// Reading these would reach the prototype chain rather than the data, so they are refused outright.
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);
const SEGMENT_PATTERN = /^[A-Za-z0-9_-]+$/;

export interface CompileOptions {
  roots?: readonly string[];
  autoNameFields?: readonly string[];
  maxSourceLength?: number;
}

export interface TextNode {
  kind: 'text';
  text: string;
  offset: number;
  /** End offset in the source; differs from offset + text.length where `{{` or `}}` were collapsed. */
  end: number;
}

export interface PipeNode {
  fn: TemplateFunction;
  args: readonly string[];
  prepared: unknown;
  /** Source offset of the function name; positions are worked out only when something goes wrong. */
  offset: number;
}

export interface TagNode {
  kind: 'tag';
  path: readonly string[];
  /** The path as written in the template, e.g. "data.first_name". */
  variable: string;
  pipes: readonly PipeNode[];
  autoName: boolean;
  /** Source offset of the tag's "{". */
  offset: number;
}

export type TemplateNode = TextNode | TagNode;

export interface CompiledTemplate {
  source: string;
  nodes: readonly TemplateNode[];
  /** Every variable the template reads, once each, in order of first use. */
  variables: readonly string[];
  warnings: readonly TemplateIssue[];
}

export interface ParseResult {
  nodes: TemplateNode[];
  issues: TemplateIssue[];
}

/** Parses everything it can and reports every problem, for validation; compileTemplate stops at the first. */
export function parseTemplate(source: string, options: CompileOptions = {}): ParseResult {
  const max = options.maxSourceLength ?? MAX_SOURCE_LENGTH;
  if (source.length > max) {
    const reason = `template is ${source.length} characters long; the limit is ${max}`;
    return { nodes: [], issues: [makeIssue('error', 'too_long', reason, positionAt(source, max))] };
  }
  const roots = options.roots ?? DEFAULT_ROOTS;
  const autoName = new Set(options.autoNameFields ?? AUTO_NAME_FIELDS);
  const { tokens, issues } = scanTemplate(source);
  const nodes: TemplateNode[] = [];
  for (const token of tokens) {
    if (token.kind === 'text') {
      nodes.push(token);
      continue;
    }
    const at = (offset: number): TemplatePosition => positionAt(source, offset);
    const path = parsePath(token.segments[0]!, token.segments.length, at, roots, issues);
    const pipes = path ? parsePipes(token.segments.slice(1), at, issues) : undefined;
    if (!path || !pipes) continue;
    const last = path[path.length - 1]!.toLowerCase();
    nodes.push({
      kind: 'tag',
      path,
      variable: path.join('.'),
      pipes,
      autoName: autoName.has(last),
      offset: token.offset,
    });
  }
  issues.sort((a, b) => (a.position?.offset ?? 0) - (b.position?.offset ?? 0));
  return { nodes, issues };
}

/**
 * The language: literal text with tags. `{data.first_name}` reads a value; `|fn` pipes it through a
 * function and `|fn|arg` passes an argument (`{data.appointment_date|date|MM-DD-YYYY h:mm A}`);
 * chains run left to right (`{data.x|default|friend|upper}`). `{{` and `}}` are literal braces; inside a
 * tag, `\|`, `\}`, `\{` and `\\` are literal. Throws TemplateError at the first error; warnings are
 * kept on the result.
 */
export function compileTemplate(source: string, options: CompileOptions = {}): CompiledTemplate {
  const { nodes, issues } = parseTemplate(source, options);
  const firstError = issues.find((issue) => issue.severity === 'error');
  if (firstError) throw new TemplateError(firstError);
  const variables = [...new Set(nodes.flatMap((node) => (node.kind === 'tag' ? [node.variable] : [])))];
  return deepFreeze({ source, nodes, variables, warnings: issues });
}

function parsePath(
  segment: RawSegment,
  segmentCount: number,
  at: (offset: number) => TemplatePosition,
  roots: readonly string[],
  issues: TemplateIssue[],
): string[] | undefined {
  const text = segment.text.trim();
  const start = segment.offset + (segment.text.length - segment.text.trimStart().length);
  const fail = (code: TemplateIssue['code'], reason: string, hint?: string): undefined => {
    issues.push(makeIssue('error', code, reason, at(start), hint));
    return undefined;
  };
  if (text === '') {
    return segmentCount === 1
      ? fail(
          'empty_tag',
          'empty tag "{}"',
          'name a variable, e.g. {data.first_name}, or write "{{}}" for literal braces',
        )
      : fail('empty_tag', 'tag has no variable before "|"', 'e.g. {data.first_name|upper}');
  }
  const path = text.split('.');
  const forbidden = path.find((part) => FORBIDDEN_SEGMENTS.has(part));
  if (forbidden !== undefined)
    return fail('forbidden_path', `"${forbidden}" is not allowed in a variable name ("${text}")`);
  if (!path.every((part) => SEGMENT_PATTERN.test(part))) {
    return fail(
      'invalid_path',
      `invalid variable name "${text}"`,
      'use letters, digits, "_" and "-" separated by dots, e.g. data.first_name',
    );
  }
  const root = path[0]!;
  if (!roots.includes(root)) {
    const guess = closestMatch(root, roots);
    const hint = guess
      ? `did you mean "${[guess, ...path.slice(1)].join('.')}"?`
      : `variables start with ${roots.join(', ')}`;
    return fail('unknown_root', `unknown variable "${text}"`, hint);
  }
  if (path.length === 1)
    return fail('invalid_path', `"${root}" needs a field after it`, `e.g. {${root}.name}`);
  return path;
}

function parsePipes(
  segments: readonly RawSegment[],
  at: (offset: number) => TemplatePosition,
  issues: TemplateIssue[],
): PipeNode[] | undefined {
  const pipes: PipeNode[] = [];
  let i = 0;
  while (i < segments.length) {
    const segment = segments[i]!;
    const name = segment.text.trim();
    const offset = segment.offset + (segment.text.length - segment.text.trimStart().length);
    if (name === '') {
      const hint = 'remove the trailing "|" or name a function after it';
      issues.push(
        makeIssue('error', 'syntax', 'expected a function name after "|"', at(segment.offset - 1), hint),
      );
      return undefined;
    }
    const fn = findTemplateFunction(name);
    if (!fn) {
      issues.push(unknownFunctionIssue(name, at(offset), pipes[pipes.length - 1]));
      return undefined;
    }
    const args: string[] = [];
    const argSegments: RawSegment[] = [];
    i++;
    for (const param of fn.params) {
      const next = segments[i];
      // A blank optional argument is a trailing "|", reported as such by the next loop turn.
      const skipOptional =
        param.optional &&
        next !== undefined &&
        (next.text.trim() === '' || findTemplateFunction(next.text) !== undefined);
      if (next === undefined || skipOptional) {
        if (param.optional) continue;
        const count = fn.params.filter((p) => !p.optional).length;
        const reason = `function "${fn.name}" needs ${count} argument${count === 1 ? '' : 's'} (${param.name}), got ${args.length}`;
        issues.push(makeIssue('error', 'wrong_argument_count', reason, at(offset), `e.g. ${fn.example}`));
        return undefined;
      }
      args.push(next.text);
      argSegments.push(next);
      i++;
    }
    const { prepared, issues: argIssues } = fn.prepare(args);
    for (const issue of argIssues) {
      const arg = argSegments[issue.arg ?? 0];
      const offset = arg ? (arg.offsets[issue.offset] ?? arg.offset) : segment.offset;
      const code = issue.severity === 'error' ? 'bad_argument' : 'argument_warning';
      issues.push(makeIssue(issue.severity, code, issue.reason, at(offset), issue.hint));
    }
    if (argIssues.some((issue) => issue.severity === 'error')) return undefined;
    pipes.push({ fn, args, prepared, offset });
  }
  return pipes;
}

function unknownFunctionIssue(
  name: string,
  position: TemplatePosition,
  previous: PipeNode | undefined,
): TemplateIssue {
  const guess = closestMatch(name, TEMPLATE_FUNCTIONS.keys());
  if (guess)
    return makeIssue(
      'error',
      'unknown_function',
      `unknown function "${name}"`,
      position,
      `did you mean "${guess}"?`,
    );
  if (previous) {
    // After a function whose arguments are used up, an unknown word is most likely one argument too many.
    const count = previous.fn.params.length;
    const takes = count === 0 ? 'takes no arguments' : `takes ${count} argument${count === 1 ? '' : 's'}`;
    const reason = `function "${previous.fn.name}" ${takes}, but "${name}" follows it`;
    const hint =
      count === 0
        ? `remove "${name}", which is not a function either`
        : `"${name}" is not a function either; write "\\|" for a literal "|" inside an argument`;
    return makeIssue('error', 'wrong_argument_count', reason, position, hint);
  }
  const hint = `functions are ${[...TEMPLATE_FUNCTIONS.keys()].join(', ')}`;
  return makeIssue('error', 'unknown_function', `unknown function "${name}"`, position, hint);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
