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
  /** the file's unmapped columns */
  data: Record<string, string | number>;
}

/** Staging columns in COPY order; schemas/migrations/0010_ingest.sql creates them. */
export const STAGING_COLUMNS = [
  'packet_id', 'row_number', 'contact_key', 'appointment_key', 'external_id', 'first_name', 'last_name',
  'middle_name', 'phone_e164', 'email', 'timezone', 'phone_timezone', 'zip', 'state', 'language',
  'consent_source', 'provider', 'provider_id', 'location', 'location_id', 'starts_at', 'appointment_timezone',
  'appointment_external_id', 'appointment_status', 'data',
] as const;

/** One COPY line (with its newline) for the packet's staging table. */
export function copyLine(packetId: number, r: StagedRow): string {
  return (
    `${packetId}\t${r.rowNumber}\t${field(r.contactKey)}\t${field(r.appointmentKey)}\t${field(r.externalId)}\t` +
    `${field(r.firstName)}\t${field(r.lastName)}\t${field(r.middleName)}\t${field(r.phone)}\t${field(r.email)}\t` +
    `${field(r.timezone)}\t${field(r.phoneTimezone)}\t${field(r.zip)}\t${field(r.state)}\t${field(r.language)}\t` +
    `${field(r.consentSource)}\t${field(r.provider)}\t${field(r.providerId)}\t${field(r.location)}\t` +
    `${field(r.locationId)}\t${field(r.startsAt)}\t${field(r.appointmentTimezone)}\t` +
    `${field(r.appointmentExternalId)}\t${field(r.appointmentStatus)}\t${field(JSON.stringify(r.data))}\n`
  );
}
