// Which of a vendor's records are a group of our messages, when the vendor keeps no id of ours: never a guess.

import type { SendResult } from '../providers/types';

export type RecordMatch =
  /** the vendor has nothing that could be them: none of them went */
  | { kind: 'none' }
  /** one record per message, in the messages' order */
  | { kind: 'each'; results: SendResult[] }
  /** as many records as messages and no one else's: every message went, which id is whose is not known */
  | { kind: 'all' }
  /** some may have gone and the records cannot say which */
  | { kind: 'unclear'; reason: string };

export interface MatchInput {
  /** messages of the group: same recipient, sender and text, all unresolved */
  messages: number;
  /** what the vendor holds that could be them, ids recorded on our messages left out */
  records: readonly SendResult[];
  /** the vendor found them by our own id */
  exact: boolean;
  /** other sends of ours to the same recipient whose vendor id is not recorded (in flight, or unresolved) */
  unrecordedElsewhere: number;
}

export function matchRecords({ messages, records, exact, unrecordedElsewhere }: MatchInput): RecordMatch {
  const found = records.length;
  if (found === 0) return { kind: 'none' };
  if (exact) {
    return found === 1 && messages === 1
      ? { kind: 'each', results: [...records] }
      : { kind: 'unclear', reason: `the provider holds ${found} messages with our id` };
  }
  // every unrecorded record to this recipient could only be one of the group's
  if (unrecordedElsewhere === 0 && found === messages)
    return messages === 1 ? { kind: 'each', results: [...records] } : { kind: 'all' };
  return {
    kind: 'unclear',
    reason:
      `the provider holds ${found} message(s) to this number that could be ${messages} of ours ` +
      `(${unrecordedElsewhere} other send(s) to it not recorded yet): which went cannot be told; ` +
      'a status callback or a later reconciliation settles it',
  };
}
