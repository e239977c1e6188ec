// The zod schema of a company load map: source columns to canonical fields, cleaning rules, dedupe.
import { z } from 'zod';
import { canonicalField } from './canonical';

export const ianaTimezone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be an IANA time zone such as America/Chicago' },
);

/** A cleaning rule by name with its options; the rule registry checks names and options when a map is loaded. */
export const ruleSpec = z.looseObject({ rule: z.string().min(1) });

export const fieldMapping = z
  .object({
    /** the source column, or several alternatives tried in order */
    column: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
    default: z.string().optional(),
    required: z.boolean().default(false),
    rules: z.array(ruleSpec).default([]),
    /** this field reads a column another field reads too, on purpose (a full-name column split by rules) */
    sharedColumn: z.boolean().optional(),
  })
  .refine((f) => f.column !== undefined || f.default !== undefined, {
    message: 'needs a column or a default',
  });

export const loadMapSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'lower-case letters, digits, - and _'),
    company: z.string().optional(),
    description: z.string().optional(),
    system: z.object({ name: z.string(), version: z.string().optional() }).optional(),
    format: z
      .object({
        kind: z.enum(['auto', 'csv', 'xlsx', 'json', 'ndjson']).default('auto'),
        delimiter: z.enum([',', ';', '|', '\t']).optional(),
        encoding: z.enum(['auto', 'utf-8', 'utf-16le', 'utf-16be', 'windows-1252']).default('auto'),
        sheet: z.string().optional(),
      })
      .default({ kind: 'auto', encoding: 'auto' }),
    /** dates and times in the file are read in this zone; else the location's, else the company's */
    timezone: ianaTimezone.optional(),
    defaultCountry: z
      .string()
      .regex(/^[A-Z]{2}$/)
      .default('US'),
    fields: z.partialRecord(canonicalField, fieldMapping),
    /** columns not mapped to a canonical field are kept in the row's data */
    keepUnmapped: z.boolean().default(true),
    /**
     * What a blank cell in a later file does to a value an earlier file stored (a contact's phone, email,
     * middle name, ZIP, state, language, consent source, external id; an appointment's provider and
     * location): `keep` it (the default), or `clear` it. Only fields the map reads from a column the file has.
     */
    blankCells: z.enum(['keep', 'clear']).optional(),
    /**
     * The file's columns this map was made for (`herald loadmap suggest` writes them): a file whose
     * header differs has drifted, and its source's `onDrift` says what happens. Without it only the
     * required columns are checked.
     */
    header: z.array(z.string().min(1)).min(1).optional(),
    dedupe: z
      .object({
        contact: z.array(canonicalField).min(1),
        appointment: z.array(canonicalField).min(1).optional(),
      })
      .default({ contact: ['first_name', 'last_name', 'phone'] }),
  })
  .superRefine((map, ctx) => {
    // reminders address people by first and last name, and reach them by phone or email
    for (const field of ['first_name', 'last_name'] as const) {
      if (!map.fields[field])
        ctx.addIssue({ code: 'custom', path: ['fields', field], message: 'is required' });
    }
    if (!map.fields.phone && !map.fields.email) {
      ctx.addIssue({ code: 'custom', path: ['fields'], message: 'must map phone or email (or both)' });
    }
    for (const field of map.dedupe.contact) {
      if (!map.fields[field]) {
        ctx.addIssue({
          code: 'custom',
          path: ['dedupe', 'contact'],
          message: `uses ${field}, which the map does not fill`,
        });
      }
    }
  });

export type LoadMap = z.infer<typeof loadMapSchema>;
export type LoadMapInput = z.input<typeof loadMapSchema>;

export function formatZodIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top)'}: ${i.message}`).join('; ');
}
