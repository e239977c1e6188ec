// Gives each prepared send its time: the latest of its slots on the account, the company and the sender number.
import type { Sql } from '../db';
import type { ProviderAccount } from '../providers/accounts';
import type { CompanyContext } from './load';
import type { PreparedSend } from './prepare';
import { limiterKey, reserveSlots, slotTime } from './rate-slots';

export interface TimedSend extends PreparedSend {
  /** local epoch ms at which the provider may be called for this message */
  at: number;
}

/**
 * Each limiter hands out its own run of evenly spaced slots and a message goes at the latest of
 * the slots it holds, so no limiter ever sees two messages in one of its slots. Caps are scaled
 * down by the headroom: timers and networks add jitter, and a cap is a ceiling at the vendor.
 */
export async function scheduleSends(
  sql: Sql,
  sends: readonly PreparedSend[],
  limits: { account: ProviderAccount; company: CompanyContext; headroom: number },
): Promise<TimedSend[]> {
  if (!sends.length) return [];
  const scale = 1 - limits.headroom;
  const times = new Array<number>(sends.length).fill(0);
  const apply = async (key: string, perSecond: number, indexes: number[]) => {
    const run = await reserveSlots(sql, key, indexes.length, perSecond * scale);
    indexes.forEach((index, i) => (times[index] = Math.max(times[index]!, slotTime(run, i))));
  };
  const all = sends.map((_, i) => i);
  await apply(limiterKey.account(limits.account.key), limits.account.maxPerSecond, all);
  if (limits.company.plan.maxSendsPerSecond) {
    await apply(limiterKey.company(limits.company.id), limits.company.plan.maxSendsPerSecond, all);
  }
  const bySender = new Map<number, number[]>();
  sends.forEach((s, i) => s.sender && bySender.set(s.sender.id, [...(bySender.get(s.sender.id) ?? []), i]));
  for (const [senderId, indexes] of bySender) {
    await apply(limiterKey.sender(senderId), sends[indexes[0]!]!.sender!.maxPerSecond, indexes);
  }
  return sends.map((s, i) => ({ ...s, at: times[i]! })).sort((a, b) => a.at - b.at);
}
