// How sure a column fills a field: what its header says, checked against what its values are.
import type { CanonicalField } from '../../../schemas/canonical';
import type { ColumnContent } from './column-content';
import { headerCues, roleOf, type Role } from './header-cues';
import { headerWords } from './header-words';

/** Below this a match is only offered as a possibility; the column stays an extra. */
export const CONFIDENCE_THRESHOLD = 0.6;

export interface Candidate {
  field: CanonicalField;
  confidence: number;
  rank: number;
  evidence: string[];
}

type Verdict = { says: 'yes' | 'no' | 'unknown'; why: string };

const pct = (share: number) => `${Math.round(share * 100)}%`;

/** Whether the values fit the field: yes, no, or nothing to tell by (blank, free text). */
export function contentVerdict(field: CanonicalField, c: ColumnContent): Verdict {
  const s = c.shares;
  if (c.filled === 0) return { says: 'unknown', why: 'no values in the sample' };
  const share = (value: number, what: string, yes: number, no: number): Verdict =>
    value >= yes
      ? { says: 'yes', why: `${pct(value)} of the values are ${what}` }
      : value < no
        ? { says: 'no', why: `only ${pct(value)} of the values are ${what}` }
        : { says: 'unknown', why: `${pct(value)} of the values are ${what}` };
  switch (field) {
    case 'email':
      return share(s.email, 'email addresses', 0.8, 0.3);
    case 'phone':
      return share(s.phone, 'phone numbers', 0.6, 0.3);
    case 'zip':
      return share(s.zip, 'ZIP codes', 0.8, 0.3);
    case 'state':
      return share(s.state, 'US states', 0.8, 0.3);
    case 'appointment_date':
      if (c.pastDates && s.date >= 0.5)
        return { says: 'no', why: 'the dates lie years apart or long past (birth dates?)' };
      return share(s.date, `dates${c.formats.length ? ` (${c.formats.join(', ')})` : ''}`, 0.8, 0.3);
    case 'appointment_time':
      return share(s.time, `times of day${c.formats.length ? ` (${c.formats.join(', ')})` : ''}`, 0.8, 0.3);
    case 'appointment_status':
      if (s.state >= 0.8) return { says: 'no', why: 'the values are US states' };
      return share(s.status, 'appointment statuses', 0.6, 0.2);
    case 'language':
      return share(s.languageCode, 'language codes (en, es)', 0.8, 0.3);
    case 'timezone':
      return share(s.timezone, 'IANA time zones', 0.8, 0.3);
    case 'first_name':
    case 'last_name':
    case 'middle_name':
      if (s.email + s.phone + s.date + s.id >= 0.5) return { says: 'no', why: 'the values are not names' };
      return share(s.name, 'names', 0.8, 0.3);
    case 'provider':
    case 'location':
      if (s.date + s.phone + s.email >= 0.5) return { says: 'no', why: 'the values are not names' };
      return { says: 'unknown', why: 'free text' };
    case 'external_id':
    case 'appointment_id':
    case 'provider_id':
    case 'location_id':
      if (s.date >= 0.5 || s.email >= 0.5 || (s.name >= 0.8 && s.id < 0.2))
        return { says: 'no', why: 'the values are not ids' };
      return share(s.id, 'codes with digits', 0.8, 0.1);
    default:
      return { says: 'unknown', why: 'free text' };
  }
}

/** Fields whose values alone can name them, and how sure that makes us without a header cue. */
const BY_CONTENT: Partial<Record<CanonicalField, number>> = {
  email: 0.85,
  phone: 0.7,
  appointment_date: 0.6,
  appointment_time: 0.6,
  appointment_status: 0.6,
  state: 0.55,
  zip: 0.45,
  timezone: 0.7,
};

export interface ColumnCandidates {
  column: string;
  words: string[];
  role: Role;
  candidates: Candidate[];
}

/**
 * Every field the column could fill, most likely first. The header's score is raised by values that
 * fit and sunk by values that do not; a column whose header says nothing is matched by its values
 * alone for the fields those tell apart (emails, phones, dates, times).
 */
export function scoreColumn(column: string, content: ColumnContent): ColumnCandidates {
  const words = headerWords(column);
  const cues = headerCues(words);
  const candidates: Candidate[] = [];
  for (const cue of cues) {
    const verdict = contentVerdict(cue.field, content);
    const confidence =
      verdict.says === 'yes'
        ? 0.55 + 0.45 * cue.score
        : verdict.says === 'no'
          ? 0.15 * cue.score
          : 0.3 + 0.5 * cue.score;
    candidates.push({
      field: cue.field,
      confidence: Math.round(confidence * 100) / 100,
      rank: cue.rank ?? 0,
      evidence: [
        `the header "${column}" reads as ${cue.reason} (${words.join(' ') || 'no words'})`,
        verdict.why,
      ],
    });
  }
  for (const [field, confidence] of Object.entries(BY_CONTENT) as [CanonicalField, number][]) {
    if (candidates.some((c) => c.field === field)) continue;
    const verdict = contentVerdict(field, content);
    if (verdict.says !== 'yes' || content.filled < 2) continue;
    candidates.push({
      field,
      confidence,
      rank: 0,
      evidence: [`the header "${column}" says nothing of it`, verdict.why],
    });
  }
  candidates.sort((a, b) => b.confidence - a.confidence);
  return { column, words, role: roleOf(words), candidates };
}
