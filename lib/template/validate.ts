// Checks a template when it is saved: every problem with its position, and warnings for likely mistakes.

import { isGsmChar } from '../sms/gsm';
import { normalizeForGsm } from '../sms/lookalikes';
import { makeIssue, positionAt, type TemplateIssue } from './errors';
import { parseTemplate, type CompileOptions, type TagNode, type TextNode } from './parse';
import { closestMatch } from './suggest';
import type { Channel, ValueType } from './types';

export interface ValidateOptions extends CompileOptions {
  /** The data.* fields the company's load map produces; when given, any other data.* field is an error. */
  fields?: readonly string[];
  /** Known fields of the other roots (company, customer, ...); a root left out is not checked. */
  rootFields?: Readonly<Record<string, readonly string[]>>;
  /** What a variable holds ("data.appointment_date": datetime); a function that cannot take it is an error. */
  fieldTypes?: Readonly<Record<string, ValueType>>;
  channel?: Channel;
}

export interface ValidationResult {
  errors: TemplateIssue[];
  warnings: TemplateIssue[];
}

function fieldIssue(source: string, tag: TagNode, known: readonly string[]): TemplateIssue | undefined {
  const [root, ...rest] = tag.path;
  // A nested path ("data.insurance.plan") is fine when its top-level field is known.
  if (known.includes(rest.join('.')) || known.includes(rest[0]!)) return undefined;
  const guess = closestMatch(rest.join('.'), known);
  const listed = known.slice(0, 12).join(', ') + (known.length > 12 ? ', ...' : '');
  const hint = guess
    ? `did you mean "${root}.${guess}"?`
    : known.length
      ? `known fields: ${listed}`
      : `no ${root} fields are known`;
  return makeIssue(
    'error',
    'unknown_field',
    `unknown field "${tag.variable}"`,
    positionAt(source, tag.offset),
    hint,
  );
}

const TYPE_WORDS: Record<ValueType, string> = {
  text: 'text',
  datetime: 'a date and time',
  phone: 'a phone number',
};

/**
 * Follows the tag's value through its functions: `{data.first_name|date|YYYY}` fails every send (a name
 * is not a date), so it is an error when saved. Fields of unknown type (a file's extra columns) pass.
 */
function typeIssue(
  source: string,
  tag: TagNode,
  types: Readonly<Record<string, ValueType>>,
): TemplateIssue | undefined {
  let type: ValueType | undefined = types[tag.variable];
  let from = tag.variable;
  for (const pipe of tag.pipes) {
    if (type && pipe.fn.accepts && !pipe.fn.accepts.includes(type)) {
      const wants = pipe.fn.accepts.map((t) => TYPE_WORDS[t]).join(' or ');
      return makeIssue(
        'error',
        'wrong_type',
        `"${pipe.fn.name}" needs ${wants}, but ${from} is ${TYPE_WORDS[type]}`,
        positionAt(source, pipe.offset),
        from === tag.variable
          ? `use a field that holds ${wants}${pipe.fn.accepts.includes('datetime') ? ' (data.appointment_date)' : ''}, or drop "${pipe.fn.name}"`
          : `put "${pipe.fn.name}" before the functions that turn the value into text`,
      );
    }
    if (pipe.fn.returns) {
      type = pipe.fn.returns;
      from = `the result of "${pipe.fn.name}"`;
    }
  }
  return undefined;
}

/** Literal text that would force UCS-2, halving every segment, is worth a warning on an SMS template. */
function nonGsmIssue(source: string, nodes: readonly TextNode[]): TemplateIssue | undefined {
  const found: string[] = [];
  let first: number | undefined;
  for (const node of nodes) {
    // The raw source, not node.text, so offsets stay right after a collapsed "{{".
    let offset = node.offset;
    for (const char of source.slice(node.offset, node.end)) {
      if (!isGsmChar(char)) {
        first ??= offset;
        if (!found.includes(char)) found.push(char);
      }
      offset += char.length;
    }
  }
  if (first === undefined) return undefined;
  const { replaced } = normalizeForGsm(found.join(''));
  const fixes = replaced
    .map((r) => `${JSON.stringify(r.char)} with ${JSON.stringify(r.replacement)}`)
    .join(', ');
  const listed = found
    .slice(0, 10)
    .map((c) => JSON.stringify(c))
    .join(' ');
  const reason = `text has characters outside GSM-7 (${listed}), so each SMS segment holds 70 characters instead of 160`;
  return makeIssue(
    'warning',
    'non_gsm_text',
    reason,
    positionAt(source, first),
    fixes ? `replace ${fixes}` : undefined,
  );
}

export function validateTemplate(source: string, options: ValidateOptions = {}): ValidationResult {
  const { nodes, issues } = parseTemplate(source, options);
  const known: Record<string, readonly string[] | undefined> = { ...options.rootFields };
  if (options.fields) known.data = options.fields;
  for (const node of nodes) {
    const fields = node.kind === 'tag' ? known[node.path[0]!] : undefined;
    const issue = node.kind === 'tag' && fields ? fieldIssue(source, node, fields) : undefined;
    if (issue) issues.push(issue);
    const wrongType =
      node.kind === 'tag' && !issue && options.fieldTypes
        ? typeIssue(source, node, options.fieldTypes)
        : undefined;
    if (wrongType) issues.push(wrongType);
  }
  if (options.channel === 'sms') {
    const issue = nonGsmIssue(
      source,
      nodes.filter((node): node is TextNode => node.kind === 'text'),
    );
    if (issue) issues.push(issue);
  }
  issues.sort((a, b) => (a.position?.offset ?? 0) - (b.position?.offset ?? 0));
  return {
    errors: issues.filter((issue) => issue.severity === 'error'),
    warnings: issues.filter((issue) => issue.severity === 'warning'),
  };
}
