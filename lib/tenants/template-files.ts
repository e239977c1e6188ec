// Template files as operators write them (JSON, or plain text for one channel), and their checks before saving.
import path from 'node:path';
import { z } from 'zod';
import { TEMPLATE_ROOT_FIELDS } from '../render/render-message';
import { validateTemplate, type TemplateIssue } from '../template';
import type { ValueType } from '../template/types';
import { CANONICAL_FIELDS, CANONICAL_FIELD_TYPES } from '../../schemas/canonical';
import type { TemplateText } from './templates';

export const TEMPLATE_CHANNELS = ['sms', 'voice', 'email'] as const;

/** A template file: one template or several, as the message_templates table holds them. */
const templateFile = z.object({
  name: z.string().min(1),
  channel: z.enum(TEMPLATE_CHANNELS),
  language: z.string().default('en'),
  subject: z.string().optional(),
  body: z.string(),
  html_body: z.string().optional(),
  snippets: z.record(z.string(), z.string()).optional(),
});

/** A file that is not a template file: the message names the file and the path of each problem. */
export class TemplateFileError extends Error {
  override readonly name = 'TemplateFileError';
}

/**
 * The templates a file holds: a .json file has one or a list; any other file is one body, for the
 * channel given, named after the file unless a name is given.
 */
export function parseTemplateFile(
  file: string,
  text: string,
  opts: { channel?: string; name?: string; language?: string },
): TemplateText[] {
  if (path.extname(file) !== '.json') {
    const channel = z.enum(TEMPLATE_CHANNELS).safeParse(opts.channel);
    if (!channel.success)
      throw new TemplateFileError(`${file}: a plain-text template needs --channel sms|voice|email`);
    return [
      {
        name: opts.name ?? path.basename(file, path.extname(file)),
        channel: channel.data,
        language: opts.language ?? 'en',
        // an editor's final newline is not part of the message
        body: text.replace(/\r?\n$/, ''),
      },
    ];
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new TemplateFileError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = z.union([templateFile, z.array(templateFile)]).safeParse(json);
  if (!parsed.success)
    throw new TemplateFileError(
      `${file}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(top)'}: ${i.message}`).join('; ')}`,
    );
  return Array.isArray(parsed.data) ? parsed.data : [parsed.data];
}

/** What each variable a template may read holds: canonical fields by their type, and the roots' phone numbers. */
export const TEMPLATE_FIELD_TYPES: Readonly<Record<string, ValueType>> = {
  ...Object.fromEntries(CANONICAL_FIELDS.map((f) => [`data.${f}`, CANONICAL_FIELD_TYPES[f]])),
  // a reminder's data has it when the appointment moved (lib/messages/due-steps.ts)
  'data.previous_appointment_date': 'datetime',
  'company.phone_number': 'phone',
  'location.phone_number': 'phone',
};

export interface FoundIssue extends TemplateIssue {
  template: string;
  part: string;
}

/**
 * Every problem of one template: syntax, functions and their formats, functions given a field of the
 * wrong type, and (with the company's fields) unknown fields.
 */
export function checkTemplate(t: TemplateText, fields: string[] | undefined): FoundIssue[] {
  const label = `${t.channel} ${t.name} (${t.language})`;
  const parts: [string, string | undefined][] = [
    ['subject', t.subject],
    ['body', t.body],
    ['html_body', t.html_body],
    ...Object.entries(t.snippets ?? {}).map(([name, text]): [string, string] => [`snippets.${name}`, text]),
  ];
  const issues: FoundIssue[] = [];
  if (t.channel === 'email' && !t.subject) {
    const reason = 'an email template needs a subject';
    issues.push({
      template: label,
      part: 'subject',
      severity: 'error',
      code: 'syntax',
      reason,
      message: reason,
    });
  }
  for (const [part, text] of parts) {
    if (text === undefined) continue;
    const { errors, warnings } = validateTemplate(text, {
      channel: part === 'body' ? t.channel : undefined,
      fields,
      rootFields: TEMPLATE_ROOT_FIELDS,
      fieldTypes: TEMPLATE_FIELD_TYPES,
    });
    issues.push(...[...errors, ...warnings].map((i) => ({ ...i, template: label, part })));
  }
  return issues;
}
