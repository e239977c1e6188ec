// Generates messy appointment rows (an EHR export as people really send them) with their cleaned equivalents.
import { wallClockToInstant } from '../lib/clean';
import { stateForZip } from '../lib/clean/zip-prefix';
import { copyRow } from '../lib/ingest/copy';

export const BENCH_HEADER =
  'Patient ID,First Name,Last Name,Cell Phone,Email,Appt Date,Appt Time,Appointment ID,Provider,Location,Zip,State,Notes\r\n';

/** The load map the benchmark's company uses: the same shape as loadmaps/demo-clinic-ehr.json. */
export const BENCH_MAP = {
  name: 'bench-ehr',
  format: { kind: 'csv', encoding: 'auto' },
  fields: {
    external_id: { column: 'Patient ID', required: true },
    first_name: { column: 'First Name', required: true, rules: [{ rule: 'name' }] },
    last_name: { column: 'Last Name', required: true, rules: [{ rule: 'name', part: 'family' }] },
    phone: { column: 'Cell Phone', rules: [{ rule: 'phone', onInvalid: 'reject' }] },
    email: { column: 'Email', rules: [{ rule: 'email', onInvalid: 'blank' }] },
    appointment_date: {
      column: 'Appt Date',
      required: true,
      rules: [{ rule: 'date', formats: ['MM/DD/YYYY', 'M/D/YY', 'YYYY-MM-DD'] }],
    },
    appointment_time: { column: 'Appt Time', required: true, rules: [{ rule: 'time' }] },
    appointment_id: { column: 'Appointment ID' },
    provider: { column: 'Provider', rules: [{ rule: 'name' }] },
    location: { column: 'Location' },
    zip: { column: 'Zip', rules: [{ rule: 'zip' }] },
    state: { column: 'State', rules: [{ rule: 'state' }] },
  },
  dedupe: { contact: ['external_id'], appointment: ['appointment_id'] },
};

const FIRST = [
  'Ann',
  'Bob',
  'Carmen',
  'DeShawn',
  'Eve',
  'Farid',
  'Grace',
  'Hiro',
  'Ines',
  'José',
  'Kim',
  'Liam',
];
const LAST = [
  "O'Brien",
  'McDonald',
  'Smith',
  'Nguyen',
  'Garcia',
  'Johnson',
  'Kowalski',
  'Okafor',
  'Lee',
  'Rossi',
];
const PLACES = [
  { area: '617', zip: '02110', state: ['MA', 'ma', 'Massachusetts'] },
  { area: '312', zip: '60601', state: ['IL', 'il', 'Illinois'] },
  { area: '415', zip: '94103', state: ['CA', 'ca', 'California'] },
  { area: '713', zip: '77002', state: ['TX', 'tx', 'Texas'] },
  { area: '212', zip: '10001', state: ['NY', 'ny', 'New York'] },
  { area: '206', zip: '98101', state: ['WA', 'wa', 'Washington'] },
];
const PROVIDERS = ['Dr. Maria Alvarez', 'DR. JOHN PARK', 'dr. susan wu'];
const NOTES = ['', '', '', 'call after 5', 'said "maybe", will confirm', 'prefers SMS; no voice'];

let seed = 42;
const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function messyCase(name: string): string {
  const r = random();
  return r < 0.4 ? name.toUpperCase() : r < 0.5 ? name.toLowerCase() : name;
}
// Names that arrive in one case are proper-cased; mixed case is kept as given.
function cleanedCase(messy: string, proper: string): string {
  return messy === messy.toUpperCase() || messy === messy.toLowerCase() ? proper : messy;
}
function csvCell(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export interface GeneratedRow {
  line: string;
  /** the COPY line of the cleaned row for the baseline, or null when the row is rejected */
  clean: string | null;
}

interface Person {
  id: string;
  first: string;
  last: string;
  area: string;
  exchange: string;
  line: string;
  email: string | null;
  place: (typeof PLACES)[number];
}

/**
 * Rows of appointments: a third of people have several, 5% of rows repeat an earlier appointment in
 * other spellings, 3% have no phone or email and 1% a broken phone (rejected), 2% a broken email
 * (blanked); phones, dates and times come in every common spelling, names often in ALL CAPS.
 */
export function* messyRows(count: number, now = Date.now()): Generator<GeneratedRow> {
  seed = 42;
  const people: Person[] = [];
  const recent: { person: Person; appointment: string; day: Date; hour: number; minute: number }[] = [];
  for (let i = 0; i < count; i += 1) {
    const repeat = recent.length > 0 && random() < 0.05;
    const old = repeat ? pick(recent) : undefined;
    let person = old?.person;
    if (!person) {
      if (people.length > 0 && random() < 0.3) person = pick(people);
      else {
        const place = pick(PLACES);
        const first = pick(FIRST);
        const last = pick(LAST);
        const id = `P${people.length + 1}`;
        person = {
          id,
          first,
          last,
          place,
          area: place.area,
          exchange: String(200 + Math.floor(random() * 700)),
          line: pad(Math.floor(random() * 10_000), 4),
          email:
            random() < 0.7
              ? `${first}.${last}${people.length}@example.com`.replace(/[^A-Za-z0-9.@]/g, '').toLowerCase()
              : null,
        };
        people.push(person);
        if (people.length > 50_000) people.shift();
      }
    }
    const day = old?.day ?? new Date(now + (1 + Math.floor(random() * 60)) * 86_400_000);
    const hour = old?.hour ?? 8 + Math.floor(random() * 10);
    const minute = old?.minute ?? pick([0, 15, 30, 45]);
    const appointment = old?.appointment ?? `A${i + 1}`;
    if (!old) recent.push({ person, appointment, day, hour, minute });
    if (recent.length > 1000) recent.shift();

    const y = day.getUTCFullYear();
    const m = day.getUTCMonth() + 1;
    const d = day.getUTCDate();
    const date = pick([
      `${pad(m)}/${pad(d)}/${y}`,
      `${m}/${d}/${String(y).slice(2)}`,
      `${y}-${pad(m)}-${pad(d)}`,
    ]);
    const h12 = hour % 12 === 0 ? 12 : hour % 12;
    const time = pick([`${h12}:${pad(minute)} ${hour < 12 ? 'AM' : 'PM'}`, `${pad(hour)}:${pad(minute)}`]);
    const { area, exchange, line } = person;
    const r = random();
    const noContact = r < 0.03;
    const badPhone = !noContact && r < 0.04;
    const phone = noContact
      ? ''
      : badPhone
        ? `${exchange}-${line.slice(0, 2)}`
        : pick([
            `(${area}) ${exchange}-${line}`,
            `${area}.${exchange}.${line}`,
            `+1 ${area} ${exchange} ${line}`,
            `${area}${exchange}${line}`,
            `1-${area}-${exchange}-${line}`,
          ]);
    const badEmail = random() < 0.02;
    const email =
      noContact || !person.email
        ? ''
        : badEmail
          ? person.email.replace('@', '')
          : random() < 0.3
            ? person.email.toUpperCase()
            : person.email;
    const first = messyCase(person.first);
    const last = messyCase(person.last);
    const zip = random() < 0.2 ? person.place.zip.replace(/^0+/, '') : person.place.zip;
    const state = pick(person.place.state);
    const provider = pick(PROVIDERS);
    const notes = pick(NOTES);
    const cells = [
      person.id,
      first,
      last,
      phone,
      email,
      date,
      time,
      appointment,
      provider,
      'Main Office',
      zip,
      state,
      notes,
    ];
    const text = cells.map(csvCell).join(',') + '\r\n';
    if (noContact || badPhone) {
      yield { line: text, clean: null };
      continue;
    }
    const startsAt = new Date(
      wallClockToInstant(
        { year: y, month: m, day: d },
        { hour, minute, second: 0, millisecond: 0 },
        'America/New_York',
      ),
    );
    const providerClean =
      provider === provider.toUpperCase() || provider === provider.toLowerCase()
        ? 'Dr. ' +
          provider
            .slice(4)
            .replace(/\b\w/g, (c) => c.toUpperCase())
            .replace(/\B\w/g, (c) => c.toLowerCase())
        : provider;
    const data = JSON.stringify(notes ? { Notes: notes } : {});
    yield {
      line: text,
      clean: copyRow([
        0,
        i + 2,
        person.id.toLowerCase(),
        appointment.toLowerCase(),
        person.id,
        cleanedCase(first, person.first),
        cleanedCase(last, person.last),
        null,
        `+1${area}${exchange}${line}`,
        email && !badEmail ? email.toLowerCase() : null,
        null,
        null,
        person.place.zip,
        person.place.state[0]!,
        stateForZip(person.place.zip) ?? null,
        null,
        null,
        providerClean,
        null,
        'Main Office',
        null,
        startsAt.toISOString(),
        'America/New_York',
        appointment,
        'scheduled',
        data,
      ]),
    };
  }
}
