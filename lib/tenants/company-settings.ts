// Checks a company's settings against every schema that reads them, each problem named by its path.
import { z } from 'zod';
import { channel, companySettingsSchema } from '../../schemas/company-settings';
import { companyReminderSettingsSchema } from '../../schemas/reminder-settings';

/** `settings.accounts`: the provider account a channel sends through (lib/providers/accounts), by key. */
const accountsSchema = z.looseObject({
  accounts: z.partialRecord(channel, z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/)).optional(),
});

/**
 * The settings are stored as given (defaults stay out, so a later default reaches the company); they
 * are checked here by the same schemas ingest, reminder runs and dispatch parse them with.
 */
export function settingsProblems(settings: unknown): string[] {
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings))
    return ['settings: must be a JSON object'];
  const problems: string[] = [];
  for (const schema of [companySettingsSchema, companyReminderSettingsSchema, accountsSchema]) {
    const parsed = schema.safeParse(settings);
    if (!parsed.success) {
      for (const issue of parsed.error.issues)
        problems.push(`${['settings', ...issue.path].join('.')}: ${issue.message}`);
    }
  }
  return [...new Set(problems)];
}

/** Settings with some top-level keys replaced (reminderPlan, reminders...), and the keys set to null removed. */
export function patchSettings(
  current: Record<string, unknown>,
  patch: Record<string, unknown>,
): Record<string, unknown> {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return next;
}

/** Sets `settings.reminders.<part>` (quietHours, schedule) without touching the rest of `reminders`. */
export function withReminderPart(
  settings: Record<string, unknown>,
  part: 'quietHours' | 'schedule',
  value: unknown,
): Record<string, unknown> {
  const reminders = { ...((settings.reminders as Record<string, unknown> | undefined) ?? {}) };
  if (value === null) delete reminders[part];
  else reminders[part] = value;
  return { ...settings, reminders };
}
