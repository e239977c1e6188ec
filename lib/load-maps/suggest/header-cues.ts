// What a header's words say about the canonical field its column fills, and whose it is (the contact's or someone else's).
import type { CanonicalField } from '../../../schemas/canonical';

/** Whose value a column holds, by the person its header names. */
export type Role = 'contact' | 'dependent' | 'other' | 'none';

// The person reminders go to: named so in most exports.
const CONTACT = new Set([
  'patient',
  'guardian',
  'parent',
  'owner',
  'customer',
  'client',
  'member',
  'resident',
  'contact',
  'recipient',
  'responsible',
  'account',
  'subscriber',
  'primary',
]);
// Someone the appointment is for who is not messaged: the guardian or owner is, when the file names one.
const DEPENDENT = new Set(['student', 'child', 'pet', 'animal', 'dependent', 'minor', 'kid']);
// Never the contact: a column about them is not the contact's name, phone or email.
const OTHER = new Set([
  'emergency',
  'doctor',
  'provider',
  'teacher',
  'staff',
  'employee',
  'employer',
  'insurance',
  'pharmacy',
  'referring',
  'fax',
  'office',
  'work',
  'business',
  'technician',
  'crew',
  'spouse',
]);

export function roleOf(words: readonly string[]): Role {
  if (words.some((w) => OTHER.has(w))) return 'other';
  if (words.some((w) => CONTACT.has(w))) return 'contact';
  if (words.some((w) => DEPENDENT.has(w))) return 'dependent';
  return 'none';
}

export interface HeaderCue {
  field: CanonicalField;
  /** 0..1: how plainly the header names the field */
  score: number;
  /** for phone columns: cell before home before work, when several fill it */
  rank?: number;
  reason: string;
}

const has = (words: readonly string[], ...any: string[]) => any.some((w) => words.includes(w));
const APPOINTMENT_WORDS = [
  'appointment',
  'visit',
  'service',
  'conference',
  'session',
  'booking',
  'meeting',
  'exam',
  'procedure',
  'window',
  'scheduled',
  'schedule',
  'next',
  'event',
  'class',
  'lesson',
  'reservation',
  'consult',
  'consultation',
  'surgery',
];
const NOT_THE_APPOINTMENT = [
  'birth',
  'created',
  'updated',
  'modified',
  'entered',
  'end',
  'ends',
  'due',
  'paid',
  'last',
  'previous',
  'prior',
  'admit',
  'discharge',
  'expiry',
  'expires',
  'sent',
  'printed',
  'export',
  'exported',
  'run',
];
const ID_WORDS = ['id', 'number', 'code', 'key', 'ref', 'reference', 'npi'];

/**
 * Every field the header could name, each with a score. Dates and ids need context words (an
 * appointment's date, a patient's id); a bare "Date" or "ID" scores lower than "Appt Date".
 */
export function headerCues(words: readonly string[]): HeaderCue[] {
  const cues: HeaderCue[] = [];
  const add = (field: CanonicalField, score: number, reason: string, rank?: number) =>
    cues.push({ field, score, reason, ...(rank === undefined ? {} : { rank }) });
  const role = roleOf(words);
  const isId = has(words, ...ID_WORDS);

  // names
  if (has(words, 'first', 'given')) add('first_name', 0.95, 'a first name');
  else if (has(words, 'last', 'family') && !has(words, 'visit', 'appointment', 'date', 'seen'))
    add('last_name', 0.95, 'a last name');
  else if (has(words, 'middle')) add('middle_name', 0.9, 'a middle name');
  // a bare "Name" is a full name: no cleaning rule splits it, so it stays an extra

  // phones and emails
  if (has(words, 'email')) add('email', 0.95, 'an email address');
  else if (
    has(words, 'mobile', 'phone') &&
    !has(words, 'type', 'carrier', 'fax', 'consent', 'ext', 'extension')
  ) {
    const rank = has(words, 'mobile')
      ? 3
      : has(words, 'home')
        ? 1
        : has(words, 'alt', 'alternate', 'other', 'secondary', 'second')
          ? 0.5
          : 2;
    add('phone', 0.95, 'a phone number', rank);
  } else if (
    words.length > 0 &&
    words.every(
      (w) =>
        CONTACT.has(w) ||
        DEPENDENT.has(w) ||
        [
          'home',
          'alt',
          'alternate',
          'evening',
          'day',
          'other',
          'primary',
          'secondary',
          'contact',
          'number',
        ].includes(w),
    ) &&
    has(words, 'home', 'alt', 'alternate', 'evening', 'day')
  )
    // "Guardian1_Home", "Alt": a phone by position; the values must say so
    add('phone', 0.5, 'perhaps a phone number', has(words, 'home') ? 1 : 0.5);

  // the appointment
  const aboutAppointment = has(words, ...APPOINTMENT_WORDS);
  const notIt = has(words, ...NOT_THE_APPOINTMENT);
  if (has(words, 'date', 'when', 'day', 'start', 'starts', 'begin', 'begins') && !notIt)
    add(
      'appointment_date',
      aboutAppointment || has(words, 'start', 'starts', 'begin', 'begins') ? 0.95 : 0.7,
      'an appointment date',
    );
  if (has(words, 'time') && !notIt && !has(words, 'date', 'zone', 'timezone', 'stamp'))
    add('appointment_time', aboutAppointment || words.length <= 2 ? 0.9 : 0.7, 'an appointment time');
  if (
    (isId && (aboutAppointment || has(words, 'encounter', 'order', 'confirmation', 'ticket', 'job'))) ||
    (has(words, 'work') && has(words, 'order'))
  )
    add('appointment_id', 0.95, "the appointment's id");
  else if (isId && role === 'dependent')
    add('appointment_id', 0.6, 'the id of whom the appointment is for (one appointment each)');
  if (
    has(words, 'status', 'estado', 'confirmed', 'cancelled', 'canceled') &&
    !has(words, 'marital', 'employment', 'insurance')
  )
    add('appointment_status', has(words, 'status') ? 0.85 : 0.5, "the appointment's status");

  // who and where
  if (
    has(
      words,
      'doctor',
      'provider',
      'clinician',
      'practitioner',
      'teacher',
      'therapist',
      'dentist',
      'hygienist',
      'vet',
      'veterinarian',
      'nurse',
      'resource',
      'advisor',
      'counselor',
    )
  )
    add(isId ? 'provider_id' : 'provider', isId ? 0.85 : 0.85, isId ? "the provider's id" : 'the provider');
  if (
    has(
      words,
      'location',
      'clinic',
      'office',
      'site',
      'facility',
      'branch',
      'school',
      'practice',
      'department',
      'campus',
      'center',
      'centre',
    ) &&
    !has(words, 'phone', 'email', 'address', 'fax', 'mobile')
  )
    add(isId ? 'location_id' : 'location', 0.8, isId ? "the location's id" : 'the location');

  // the contact's id
  if (isId && role === 'contact' && !aboutAppointment) add('external_id', 0.9, "the contact's id");
  else if (has(words, 'account') && !aboutAppointment) add('external_id', 0.85, 'the account');
  else if (
    isId &&
    role === 'none' &&
    words.length <= 2 &&
    !aboutAppointment &&
    !has(words, 'zip', 'premise', 'meter', 'device', 'serial', 'tax', 'ssn', 'license', 'grade', 'room')
  )
    add('external_id', 0.5, 'an id');

  // address parts the canonical record keeps
  if (has(words, 'zip')) add('zip', 0.95, 'a ZIP code');
  if (has(words, 'state', 'province', 'estado') && !has(words, 'status'))
    add('state', has(words, 'state', 'province') ? 0.9 : 0.5, 'a state');
  if (words.length === 1 && words[0] === 'st') add('state', 0.6, 'a state (or a street)');
  if (has(words, 'language')) add('language', 0.9, 'a language');
  if (has(words, 'timezone')) add('timezone', 0.9, 'a time zone');
  if (has(words, 'consent', 'optin', 'opt')) add('consent_source', 0.6, 'where consent came from');
  return cues;
}
