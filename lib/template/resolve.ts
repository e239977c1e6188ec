// Chooses which stored template a message uses: customer, then company, then global; newest version.

import type { Channel } from './types';

export type TemplateScope = 'global' | 'company' | 'customer';
type Id = string | number | bigint;

export interface TemplateCandidate {
  scope: TemplateScope;
  companyId?: Id | null;
  customerId?: Id | null;
  channel: Channel;
  name: string;
  language: string;
  version: number;
  body: string;
  /** A row explicitly switched off is never chosen; absent means active. */
  active?: boolean;
}

export interface TemplateQuery {
  name: string;
  channel: Channel;
  language: string;
  companyId: Id;
  customerId?: Id | null;
}

const sameId = (a: Id | null | undefined, b: Id | null | undefined): boolean =>
  a !== undefined && a !== null && b !== undefined && b !== null && String(a) === String(b);

/** "es-MX" -> ["es-mx", "es", "en"]: the exact language, its base language, then English. */
function languageChain(language: string): string[] {
  const exact = language.trim().toLowerCase();
  const base = exact.split(/[-_]/)[0] ?? exact;
  return [...new Set([exact, base, 'en'])];
}

/**
 * The language is tried across all three scopes before falling back to English, because a reminder
 * the recipient can read matters more than the customer's own wording of it. Within one scope and
 * language the highest version wins.
 */
export function resolveTemplate<T extends TemplateCandidate>(
  candidates: readonly T[],
  query: TemplateQuery,
): T | undefined {
  const usable = candidates.filter(
    (c) => c.name === query.name && c.channel === query.channel && c.active !== false,
  );
  const inScope: Array<(c: T) => boolean> = [
    (c) =>
      c.scope === 'customer' &&
      sameId(c.companyId, query.companyId) &&
      sameId(c.customerId, query.customerId),
    (c) => c.scope === 'company' && sameId(c.companyId, query.companyId),
    (c) => c.scope === 'global',
  ];
  for (const language of languageChain(query.language)) {
    for (const matchesScope of inScope) {
      const best = usable
        .filter((c) => matchesScope(c) && c.language.toLowerCase() === language)
        .reduce<T | undefined>(
          (top, c) => (top === undefined || c.version > top.version ? c : top),
          undefined,
        );
      if (best) return best;
    }
  }
  return undefined;
}
