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
