// Gives each prepared send its time, under the account's, the company's and its sender number's caps at once.
import type { Sql } from '../db';
import type { ProviderAccount } from '../providers/accounts';
import type { CompanyContext } from '../messages/load';
import type { PreparedSend } from '../render/prepare';
import { limiterKey, reserveSendTimes, type Limit } from '../rates/rate-slots';

export interface TimedSend extends PreparedSend {
  /** local epoch ms at which the provider may be called for this message */
  at: number;
}

/**
 * Caps are scaled down by the headroom (timers and networks add jitter, and a cap is a ceiling at
 * the vendor) and by the slowdown a 429 asked for.
 */
export async function timeSends(
  sql: Sql,
  sends: readonly PreparedSend[],
  limits: {
    account: ProviderAccount;
    company: CompanyContext;
    headroom: number;
    slowdown?: number;
    leadMs?: number;
  },
): Promise<TimedSend[]> {
  if (!sends.length) return [];
  const scale = (1 - limits.headroom) * (limits.slowdown ?? 1);
  const shared: Limit[] = [
    { key: limiterKey.account(limits.account.key), perSecond: limits.account.maxPerSecond * scale },
  ];
  if (limits.company.plan.maxSendsPerSecond) {
    shared.push({
      key: limiterKey.company(limits.company.id),
      perSecond: limits.company.plan.maxSendsPerSecond * scale,
    });
  }
  const entries = sends.map((s) =>
    s.sender
      ? [...shared, { key: limiterKey.sender(s.sender.id), perSecond: s.sender.maxPerSecond * scale }]
      : shared,
  );
  const times = await reserveSendTimes(sql, entries, limits.leadMs);
  return sends.map((s, i) => ({ ...s, at: times[i]! })).sort((a, b) => a.at - b.at);
}
