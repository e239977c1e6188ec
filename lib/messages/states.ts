// A message's states and the moves between them, as the database's state machine has them (message_states, message_state_transitions).

/** Every state a message can be in; the order is the lifecycle's. */
export const MESSAGE_STATES = [
  'scheduled',
  'held',
  'sending',
  'sent',
  'unknown',
  'delivered',
  'undelivered',
  'failed',
  'skipped',
  'expired',
  'cancelled',
] as const;
export type MessageState = (typeof MESSAGE_STATES)[number];

/** States a message never leaves: the archive may move it to history once it is old enough. */
export const FINAL_STATES: readonly MessageState[] = [
  'delivered',
  'undelivered',
  'failed',
  'skipped',
  'expired',
  'cancelled',
];

/**
 * Where each state may go. The database refuses any other move, whatever code makes it
 * (messages_state_guard); a test checks this against message_state_transitions.
 */
export const TRANSITIONS: Readonly<Record<MessageState, readonly MessageState[]>> = {
  scheduled: ['sending', 'skipped', 'expired', 'cancelled', 'held'],
  held: ['scheduled', 'skipped', 'expired', 'cancelled'],
  // back to scheduled only when reconciliation proved the provider never got it; a delivery callback
  // can overtake the write of 'sent'
  sending: ['scheduled', 'sent', 'failed', 'unknown', 'held', 'skipped', 'delivered', 'undelivered'],
  sent: ['delivered', 'undelivered', 'failed'],
  // back to scheduled when a sweeper's reconciliation proved the provider never got it
  unknown: ['scheduled', 'sent', 'delivered', 'undelivered', 'failed', 'skipped'],
  delivered: [],
  undelivered: [],
  failed: [],
  skipped: [],
  expired: [],
  cancelled: [],
};

export function canMove(from: MessageState, to: MessageState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** States a reminder run, an opt-out or a stopped sequence may still take a message out of: not sent yet. */
export const NOT_SENT: readonly MessageState[] = ['scheduled', 'held'];
