// The message states and moves in lib/messages are the database's: the TypeScript union and transition map against message_states and message_state_transitions.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { FINAL_STATES, MESSAGE_STATES, TRANSITIONS, canMove } from '../lib/messages/states';
import { openTestApp } from './support/harness';

let app: App;
beforeAll(async () => {
  app = await openTestApp();
});
afterAll(async () => {
  await app?.close();
});

describe('the message lifecycle in lib/messages', () => {
  it('has the states the database has, final where the database says final', async () => {
    const states = await app.sql<{ state: string; final: boolean }[]>`
      select state, final from message_states order by state`;
    expect([...MESSAGE_STATES].sort()).toEqual(states.map((s) => s.state));
    expect([...FINAL_STATES].sort()).toEqual(states.filter((s) => s.final).map((s) => s.state));
  });

  it('allows exactly the moves message_state_transitions lists', async () => {
    const rows = await app.sql<{ from_state: string; to_state: string }[]>`
      select from_state, to_state from message_state_transitions order by from_state, to_state`;
    const ours = MESSAGE_STATES.flatMap((from) => TRANSITIONS[from].map((to) => `${from} -> ${to}`)).sort();
    expect(ours).toEqual(rows.map((r) => `${r.from_state} -> ${r.to_state}`).sort());
    // a final state goes nowhere
    for (const state of FINAL_STATES) expect(TRANSITIONS[state]).toEqual([]);
    expect(canMove('sent', 'delivered')).toBe(true);
    expect(canMove('delivered', 'sent')).toBe(false);
  });
});
