// A mapped and cleaned row as it goes into the staging table, and its line in COPY's text format.
import { copyValue as field } from './copy';

export interface StagedRow {
  rowNumber: number;
  contactKey: string;
  appointmentKey: string | null;
  externalId: string | null;
  firstName: string;
  lastName: string;
  middleName: string | null;
  phone: string | null;
  email: string | null;
  /** a zone the row itself names; the contact's zone falls back to state, area code, company */
  timezone: string | null;
  phoneTimezone: string | null;
  zip: string | null;
  state: string | null;
  /** the ZIP's state (lib/clean/zip-prefix.ts, five-digit exceptions included): the merge's only source */
  zipState: string | null;
  language: string | null;
  consentSource: string | null;
  provider: string | null;
  providerId: string | null;
  location: string | null;
  locationId: string | null;
  /** UTC ISO instant of the appointment, null for a contact-only row */
  startsAt: string | null;
  /** the zone the appointment's wall-clock time was read in */
  appointmentTimezone: string | null;
  appointmentExternalId: string | null;
  appointmentStatus: string | null;
  /**
   * An appointment row's: the appointment's data, the file's unmapped columns with the provider and
   * location names. A contact-only row's: the contact's, the unmapped columns (a blank one as null when
   * the map's blankCells is clear, which removes the stored key).
   */
  data: Record<string, string | number | null>;
}

/** Staging columns in COPY order; schemas/migrations/0010_ingest.sql creates them (zip_state: 0056). */
export const STAGING_COLUMNS = [
  'packet_id',
  'row_number',
  'contact_key',
  'appointment_key',
  'external_id',
  'first_name',
  'last_name',
  'middle_name',
  'phone_e164',
  'email',
  'timezone',
  'phone_timezone',
  'zip',
  'state',
  'zip_state',
  'language',
  'consent_source',
  'provider',
  'provider_id',
  'location',
  'location_id',
  'starts_at',
  'appointment_timezone',
  'appointment_external_id',
  'appointment_status',
  'data',
] as const;

/**
 * One COPY line (with its newline) for the packet's staging table. Built with join, which makes one flat
 * string: concatenating twenty-five pieces would keep a rope of them per row until the chunk is sent.
 */
export function copyLine(packetId: number, r: StagedRow): string {
  return (
    [
      packetId,
      r.rowNumber,
      field(r.contactKey),
      field(r.appointmentKey),
      field(r.externalId),
      field(r.firstName),
      field(r.lastName),
      field(r.middleName),
      field(r.phone),
      field(r.email),
      field(r.timezone),
      field(r.phoneTimezone),
      field(r.zip),
      field(r.state),
      field(r.zipState),
      field(r.language),
      field(r.consentSource),
      field(r.provider),
      field(r.providerId),
      field(r.location),
      field(r.locationId),
      field(r.startsAt),
      field(r.appointmentTimezone),
      field(r.appointmentExternalId),
      field(r.appointmentStatus),
      field(JSON.stringify(r.data)),
    ].join('\t') + '\n'
  );
}
