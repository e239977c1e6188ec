// A column header as words a person means: split, abbreviations spelt out, Spanish and French read as English.

/** Abbreviations and spellings of one word, to the word they stand for. */
const WORDS: Record<string, string> = {
  pt: 'patient',
  pat: 'patient',
  pts: 'patient',
  appt: 'appointment',
  appts: 'appointment',
  apt: 'appointment',
  appointments: 'appointment',
  dt: 'date',
  dte: 'date',
  tm: 'time',
  nm: 'name',
  nme: 'name',
  fname: 'first name',
  firstname: 'first name',
  givenname: 'first name',
  lname: 'last name',
  lastname: 'last name',
  surname: 'last name',
  forename: 'first name',
  mname: 'middle name',
  mi: 'middle initial',
  ph: 'phone',
  phn: 'phone',
  phone: 'phone',
  phones: 'phone',
  tel: 'phone',
  telephone: 'phone',
  cell: 'mobile',
  cellphone: 'mobile phone',
  cel: 'mobile',
  mob: 'mobile',
  mobile: 'mobile',
  sms: 'mobile',
  text: 'mobile',
  no: 'number',
  num: 'number',
  nbr: 'number',
  nr: 'number',
  '#': 'number',
  addr: 'address',
  zipcode: 'zip',
  postal: 'zip',
  postcode: 'zip',
  dob: 'birth date',
  birthdate: 'birth date',
  bday: 'birth date',
  acct: 'account',
  cust: 'customer',
  svc: 'service',
  srv: 'service',
  wo: 'work order',
  workorder: 'work order',
  conf: 'conference',
  dr: 'doctor',
  doc: 'doctor',
  physician: 'doctor',
  attending: 'doctor',
  prov: 'provider',
  loc: 'location',
  lang: 'language',
  stat: 'status',
  email: 'email',
  emailaddress: 'email',
  mail: 'email',
  tz: 'timezone',
  mrn: 'patient id',
  identifier: 'id',
  datetime: 'date time',
  timestamp: 'date time',
  // Spanish
  nombre: 'first name',
  nombres: 'first name',
  apellido: 'last name',
  apellidos: 'last name',
  telefono: 'phone',
  celular: 'mobile',
  movil: 'mobile',
  correo: 'email',
  electronico: '',
  fecha: 'date',
  cita: 'appointment',
  hora: 'time',
  codigo: 'code',
  medico: 'doctor',
  doctora: 'doctor',
  clinica: 'clinic',
  sede: 'location',
  consultorio: 'office',
  idioma: 'language',
  paciente: 'patient',
  cliente: 'customer',
  tutor: 'guardian',
  padre: 'parent',
  madre: 'parent',
  alumno: 'student',
  estudiante: 'student',
  mascota: 'pet',
  numero: 'number',
  estatus: 'status',
  direccion: 'address',
  ciudad: 'city',
  // French
  prenom: 'first name',
  nom: 'last name',
  portable: 'mobile',
  courriel: 'email',
  rendez: 'appointment',
  rdv: 'appointment',
  heure: 'time',
  medecin: 'doctor',
  langue: 'language',
  // stop words
  de: '',
  del: '',
  du: '',
  vous: '',
  la: '',
  el: '',
  the: '',
  of: '',
  for: '',
};

/** Two words that read as one ("e mail", "zip code", "codigo postal"). */
const PAIRS: Record<string, string> = {
  'e mail': 'email',
  'zip code': 'zip',
  'postal code': 'zip',
  'code zip': 'zip',
  'code postal': 'zip',
  'codigo postal': 'zip',
  'time zone': 'timezone',
  'work order': 'work order',
  'cell phone': 'mobile phone',
  'mobile phone': 'mobile phone',
};

// Words a header is made of, for splitting one written without spaces ("APPTDATE", "lastname").
const VOCABULARY = new Set([
  ...Object.keys(WORDS).filter((w) => w.length > 1),
  ...['first', 'last', 'name', 'middle', 'given', 'family', 'phone', 'home', 'work', 'email', 'date', 'time'],
  ...['id', 'number', 'zip', 'state', 'status', 'language', 'provider', 'location', 'patient', 'guardian'],
  ...['owner', 'customer', 'account', 'appointment', 'visit', 'service', 'start', 'code', 'type', 'contact'],
]);

/** "apptdate" -> "appt date" when both halves are words a header uses; any other word as it is. */
function splitRun(word: string): string[] {
  if (WORDS[word] !== undefined || VOCABULARY.has(word) || word.length < 5) return [word];
  for (let i = 2; i <= word.length - 2; i += 1) {
    const [head, tail] = [word.slice(0, i), word.slice(i)];
    if (VOCABULARY.has(head) && VOCABULARY.has(tail)) return [head, tail];
  }
  return [word];
}

/**
 * "PtFirstName", "pt_first", "Pt First", "PT-FIRST" all give ["patient", "first", "name"]; "Mobile #"
 * gives ["mobile", "number"]; "Correo electrónico" gives ["email"]. Accents and case do not matter.
 */
export function headerWords(header: string): string[] {
  const spaced = header
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .replace(/#/g, ' # ')
    .replace(/([a-zA-Z])(\d)/g, '$1 $2')
    .toLowerCase();
  const raw = spaced
    .split(/[^a-z0-9#]+/)
    .filter(Boolean)
    .flatMap(splitRun);
  const joined: string[] = [];
  for (let i = 0; i < raw.length; i += 1) {
    const pair = PAIRS[`${raw[i]} ${raw[i + 1]}`];
    if (pair !== undefined) {
      joined.push(pair);
      i += 1;
    } else joined.push(raw[i]!);
  }
  return joined.flatMap((w) => (WORDS[w] ?? w).split(' ')).filter((w) => w !== '' && !/^\d+$/.test(w));
}
