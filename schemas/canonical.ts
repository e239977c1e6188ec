// The canonical record: the fields a load map can fill, which templates and message planning read.
import { z } from 'zod';

export const CANONICAL_FIELDS = [
  'external_id',
  'first_name',
  'last_name',
  'middle_name',
  'phone',
  'email',
  /** the appointment instant; a load map may fill it from one datetime column or date + time columns */
  'appointment_date',
  'appointment_time',
  'appointment_id',
  'appointment_status',
  'timezone',
  'provider',
  'provider_id',
  'location',
  'location_id',
  'zip',
  'state',
  'language',
  'consent_source',
] as const;

export const canonicalField = z.enum(CANONICAL_FIELDS);
export type CanonicalField = z.infer<typeof canonicalField>;

/**
 * What each field holds once cleaned, for template checks: the appointment is a date-time (an ISO
 * instant in message data), a phone an E.164 number, the rest text. A template function that cannot
 * take the type (`{data.first_name|date}`) is refused when the template is saved.
 */
export const CANONICAL_FIELD_TYPES: Readonly<Record<CanonicalField, 'text' | 'datetime' | 'phone'>> = {
  external_id: 'text',
  first_name: 'text',
  last_name: 'text',
  middle_name: 'text',
  phone: 'phone',
  email: 'text',
  appointment_date: 'datetime',
  appointment_time: 'text',
  appointment_id: 'text',
  appointment_status: 'text',
  timezone: 'text',
  provider: 'text',
  provider_id: 'text',
  location: 'text',
  location_id: 'text',
  zip: 'text',
  state: 'text',
  language: 'text',
  consent_source: 'text',
};
