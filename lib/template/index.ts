// The template language: compile once, render per recipient, validate on save, resolve by scope.

import { compileTemplate, type CompileOptions } from './parse';
import { render, type RenderOptions, type TemplateContext } from './render';

export { compileTemplate, parseTemplate, AUTO_NAME_FIELDS, DEFAULT_ROOTS, MAX_SOURCE_LENGTH } from './parse';
export type { CompiledTemplate, CompileOptions, TemplateNode, TagNode, TextNode, PipeNode } from './parse';
export { render, renderWithReport, MAX_OUTPUT_LENGTH } from './render';
export type { RenderOptions, RenderReport, TemplateContext } from './render';
export { validateTemplate } from './validate';
export type { ValidateOptions, ValidationResult } from './validate';
export { resolveTemplate } from './resolve';
export type { TemplateCandidate, TemplateQuery, TemplateScope } from './resolve';
export { TEMPLATE_FUNCTIONS, findTemplateFunction, listTemplateFunctions } from './functions';
export { TemplateError } from './errors';
export type { TemplateIssue, TemplateIssueCode, TemplatePosition } from './errors';
export { escapeHtml, escapeXml, escapeModeFor } from './escape';
export { properCaseName, titleCase } from '../name-case';
export { parseDateFormat, formatDate } from './date-format';
export type { Channel, EscapeMode, TemplateFunction } from './types';

/** Compile and render in one go, for previews and one-off sends; batch code should compile once. */
export function renderTemplate(
  source: string,
  context: TemplateContext,
  options: RenderOptions & CompileOptions = {},
): string {
  return render(compileTemplate(source, options), context, options);
}
