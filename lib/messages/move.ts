// The one way herald's own decisions move messages between states: the new state with its reason, and an event for each.
import type { TransactionSql } from '../db';
import type { Channel } from '../providers/types';
import { recordMessageEvents } from './events';
import type { MessageState } from './states';

export interface Move {
  id: number;
  to: MessageState;
  /** kept in status_description and in the event */
  reason: string;
}

export interface Moved {
  id: number;
  uuid: string;
  channel: Channel;
  state: MessageState;
  reason: string;
}

/**
 * Moves a company's messages to their new states, only from the states in `from` (a message that
 * moved on meanwhile, say claimed by dispatch, is left as it is), and records a herald event for each
 * message that moved; returns those. The database's state machine (messages_state_guard) refuses a
 * move its transition table does not list, whatever `from` says.
 */
export async function moveMessages(
  tx: TransactionSql,
  companyId: number,
  moves: readonly Move[],
  opts: {
    from: readonly MessageState[];
    /** the event's id; the default makes one event per message and state */
    eventId?: (m: Moved) => string;
  },
): Promise<Moved[]> {
  if (!moves.length) return [];
  const rows = await tx<Moved[]>`
    update messages m set state = v.state, status_description = v.reason, last_event_at = now()
    from unnest(${tx.array(moves.map((d) => d.id))}::bigint[], ${tx.array(moves.map((d) => d.to))}::text[],
                ${tx.array(moves.map((d) => d.reason))}::text[]) as v(id, state, reason)
    where m.id = v.id and m.company_id = ${companyId} and m.state in ${tx(opts.from as MessageState[])}
    returning m.id, m.uuid, m.channel, m.state, m.status_description as reason`;
  const eventId = opts.eventId ?? ((m: Moved) => `${m.state}:${m.uuid}`);
  await recordMessageEvents(
    tx,
    companyId,
    rows.map((m) => ({
      messageId: m.id,
      channel: m.channel,
      eventId: eventId(m),
      type: m.state,
      status: m.state,
      reason: m.reason,
    })),
  );
  return rows;
}
