// What a recipient's reply means: carrier opt-out / opt-in keywords first, then the reminder's own answers.
//
// Precedence follows the carriers (CTIA, and Twilio's Advanced Opt-Out, which acts on these words
// before herald sees them): a reply that is exactly a carrier keyword is that keyword. So CANCEL
// opts the person out of texts (it does not cancel the appointment; the template asks for N or 2
// instead) and YES opts them back in (Y, C and 1 confirm). Anything else is an answer to the
// reminder, or kept as it came in.

export type ReplyIntent =
  /** stop texting me; `all` = STOPALL, every company that texts from this number */
  | { kind: 'opt_out'; keyword: string; all: boolean }
  | { kind: 'opt_in'; keyword: string }
  | { kind: 'confirm' }
  | { kind: 'cancel' }
  | { kind: 'reschedule' }
  /** none of the above: kept as raw_response for a person to read */
  | { kind: 'other' };

export const OPT_OUT_KEYWORDS = [
  'STOP',
  'STOPALL',
  'UNSUBSCRIBE',
  'CANCEL',
  'END',
  'QUIT',
  'REVOKE',
  'OPTOUT',
] as const;
export const OPT_IN_KEYWORDS = ['START', 'UNSTOP', 'YES'] as const;

const CONFIRM = new Set(['C', 'Y', '1', 'CONFIRM', 'CONFIRMED']);
const CANCEL = new Set(['N', '2', 'NO']);
const RESCHEDULE = new Set(['R', 'RESCHEDULE']);

/**
 * Case, surrounding spaces, quotes and end punctuation do not change a keyword ("Stop." is STOP,
 * "opt out" is OPTOUT); carriers match the whole message, so "stop by at 3" is not one.
 */
export function normalizeReply(text: string): string {
  return text
    .normalize('NFKC')
    .trim()
    .replace(/^["'“‘]+|["'”’.!?,;:)]+$/gu, '')
    .trim()
    .toUpperCase()
    .replace(/^OPT[\s-]+OUT$/, 'OPTOUT')
    .replace(/^STOP[\s-]+ALL$/, 'STOPALL');
}

export function classifyReply(text: string): ReplyIntent {
  const word = normalizeReply(text);
  if ((OPT_OUT_KEYWORDS as readonly string[]).includes(word))
    return { kind: 'opt_out', keyword: word, all: word === 'STOPALL' };
  if ((OPT_IN_KEYWORDS as readonly string[]).includes(word)) return { kind: 'opt_in', keyword: word };
  if (CONFIRM.has(word)) return { kind: 'confirm' };
  if (CANCEL.has(word)) return { kind: 'cancel' };
  if (RESCHEDULE.has(word)) return { kind: 'reschedule' };
  return { kind: 'other' };
}

/** The key pressed at the call's <Gather>: 1 confirms, 2 cancels (the call's prompt says so). */
export function classifyDigits(digits: string): ReplyIntent {
  switch (digits.trim()) {
    case '1':
      return { kind: 'confirm' };
    case '2':
      return { kind: 'cancel' };
    default:
      return { kind: 'other' };
  }
}

/** messages.contact_status for each outcome. */
export function contactStatusOf(intent: ReplyIntent): string {
  switch (intent.kind) {
    case 'opt_out':
      return 'opted_out';
    case 'opt_in':
      return 'opted_in';
    case 'confirm':
      return 'confirmed';
    case 'cancel':
      return 'cancelled';
    case 'reschedule':
      return 'reschedule';
    case 'other':
      return 'other';
  }
}
