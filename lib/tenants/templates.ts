// Message templates as versions: saving new text adds a version (the newest active one is sent), the old ones stay.
import { isDeepStrictEqual } from 'node:util';
import type { Sql, TransactionSql } from '../db';
import type { Channel } from '../providers/types';

export interface TemplateText {
  name: string;
  channel: Channel;
  language: string;
  subject?: string;
  body: string;
  html_body?: string;
  /** voice snippets (confirm_prompt, no_input) */
  snippets?: Record<string, string>;
}

export interface SavedTemplate {
  id: number;
  scope: 'global' | 'company';
  name: string;
  channel: Channel;
  language: string;
  version: number;
  /** false when the newest version already had this text: nothing was saved */
  changed: boolean;
}

/**
 * Saves the text as the newest version of the company's (or, without a company, the global) template of
 * that name, channel and language; dispatch sends the newest active version (lib/template/resolve).
 */
export async function saveTemplateVersion(
  tx: TransactionSql,
  companyId: number | null,
  t: TemplateText,
): Promise<SavedTemplate> {
  const scope = companyId === null ? 'global' : 'company';
  const details = t.snippets ? { snippets: t.snippets } : {};
  const [latest] = await tx<
    {
      id: number;
      version: number;
      subject: string | null;
      body: string;
      html_body: string | null;
      details: unknown;
      active: boolean;
    }[]
  >`
    select id, version, subject, body, html_body, details, active from message_templates
    where scope = ${scope} and company_id is not distinct from ${companyId} and customer_id is null
      and channel = ${t.channel} and name = ${t.name} and language = ${t.language}
    order by version desc limit 1 for update`;
  const same =
    latest &&
    latest.active &&
    latest.body === t.body &&
    latest.subject === (t.subject ?? null) &&
    latest.html_body === (t.html_body ?? null) &&
    isDeepStrictEqual(latest.details, details);
  if (same)
    return {
      id: latest.id,
      scope,
      name: t.name,
      channel: t.channel,
      language: t.language,
      version: latest.version,
      changed: false,
    };
  const [row] = await tx<{ id: number; version: number }[]>`
    insert into message_templates (scope, company_id, channel, name, language, version, subject, body, html_body, details)
    values (${scope}, ${companyId}, ${t.channel}, ${t.name}, ${t.language}, ${(latest?.version ?? 0) + 1},
            ${t.subject ?? null}, ${t.body}, ${t.html_body ?? null}, ${tx.json(details as never)})
    returning id, version`;
  return {
    id: row!.id,
    scope,
    name: t.name,
    channel: t.channel,
    language: t.language,
    version: row!.version,
    changed: true,
  };
}

export interface TemplateListing {
  scope: 'global' | 'company' | 'customer';
  channel: Channel;
  name: string;
  language: string;
  /** the version dispatch sends (the newest active one) */
  version: number;
  versions: number;
  updatedAt: Date;
}

/** The templates a company's messages can use: its own, its customers', and the global ones. */
export async function listTemplates(sql: Sql, companyId: number): Promise<TemplateListing[]> {
  return sql<TemplateListing[]>`
    select scope, channel, name, language, max(version) filter (where active) as version,
           count(*)::int as versions, max(updated_at) as "updatedAt"
    from message_templates
    where scope = 'global' or company_id = ${companyId}
    group by scope, channel, name, language
    order by name, channel, language, scope`;
}

export interface StoredTemplateVersion extends TemplateText {
  scope: 'global' | 'company' | 'customer';
  version: number;
  active: boolean;
  createdAt: Date;
}

/** One template's versions, newest first: the company's own, else the global one. */
export async function templateVersions(
  sql: Sql,
  companyId: number,
  q: { name: string; channel?: Channel; language?: string },
): Promise<StoredTemplateVersion[]> {
  const rows = await sql<(StoredTemplateVersion & { details: { snippets?: Record<string, string> } })[]>`
    select scope, channel, name, language, version, active, subject, body, html_body, details, created_at as "createdAt"
    from message_templates
    where (scope = 'global' or company_id = ${companyId}) and name = ${q.name}
      and ${q.channel ? sql`channel = ${q.channel}` : sql`true`}
      and ${q.language ? sql`language = ${q.language}` : sql`true`}
    order by channel, language, scope = 'global', version desc`;
  return rows.map(({ details, ...r }) => ({
    ...r,
    subject: r.subject ?? undefined,
    html_body: r.html_body ?? undefined,
    ...(details?.snippets ? { snippets: details.snippets } : {}),
  }));
}
