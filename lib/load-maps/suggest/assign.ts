// Chooses one field per column from the scored candidates: the surest first, the contact's columns over others'.
import type { CanonicalField } from '../../../schemas/canonical';
import { CONFIDENCE_THRESHOLD, type Candidate, type ColumnCandidates } from './score';

export interface Assignment {
  column: string;
  /** null: kept as an extra column (no candidate reached the threshold, or its field went to a surer column) */
  field: CanonicalField | null;
  confidence: number;
  evidence: string[];
  /** what else the column could be, for the operator to weigh */
  alternatives: { field: CanonicalField; confidence: number }[];
  /** for phone columns: cell before home before work */
  rank: number;
}

// Fields about the person reminders go to: a column about someone else (an emergency contact, the
// doctor) never fills them, and a dependent's (the student, the pet) only when no contact column does.
const CONTACT_FIELDS = new Set<CanonicalField>([
  'first_name',
  'last_name',
  'middle_name',
  'phone',
  'email',
  'external_id',
]);
// several columns may fill these, tried in order per row (a cell phone, else a home phone)
const MANY = new Set<CanonicalField>(['phone']);

export function assignFields(columns: readonly ColumnCandidates[]): Assignment[] {
  const pairs: { column: ColumnCandidates; candidate: Candidate }[] = [];
  for (const column of columns) for (const candidate of column.candidates) pairs.push({ column, candidate });
  const hasContactColumn = new Set(
    pairs.filter((p) => p.column.role === 'contact').map((p) => p.candidate.field),
  );
  const usable = pairs.filter(({ column, candidate }) => {
    if (!CONTACT_FIELDS.has(candidate.field)) return true;
    if (column.role === 'other') return false;
    return !(column.role === 'dependent' && hasContactColumn.has(candidate.field));
  });
  usable.sort(
    (a, b) => b.candidate.confidence - a.candidate.confidence || b.candidate.rank - a.candidate.rank,
  );

  const chosen = new Map<string, Candidate>();
  const taken = new Set<CanonicalField>();
  for (const { column, candidate } of usable) {
    if (candidate.confidence < CONFIDENCE_THRESHOLD) break;
    if (chosen.has(column.column) || (taken.has(candidate.field) && !MANY.has(candidate.field))) continue;
    chosen.set(column.column, candidate);
    taken.add(candidate.field);
  }
  // a time alone cannot place an appointment
  if (!taken.has('appointment_date'))
    for (const [column, c] of chosen) if (c.field === 'appointment_time') chosen.delete(column);

  return columns.map((column) => {
    const pick = chosen.get(column.column);
    const best = column.candidates[0];
    return {
      column: column.column,
      field: pick?.field ?? null,
      confidence: pick?.confidence ?? best?.confidence ?? 0,
      evidence: pick?.evidence ?? best?.evidence ?? ['nothing in its header or values names a field'],
      alternatives: column.candidates
        .filter((c) => c !== pick)
        .slice(0, 3)
        .map((c) => ({ field: c.field, confidence: c.confidence })),
      rank: pick?.rank ?? 0,
    };
  });
}
