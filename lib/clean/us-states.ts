// USPS state and territory codes with the names and abbreviations people write instead of them.

export const US_STATES = {
  AL: 'Alabama',
  AK: 'Alaska',
  AZ: 'Arizona',
  AR: 'Arkansas',
  CA: 'California',
  CO: 'Colorado',
  CT: 'Connecticut',
  DE: 'Delaware',
  DC: 'District of Columbia',
  FL: 'Florida',
  GA: 'Georgia',
  HI: 'Hawaii',
  ID: 'Idaho',
  IL: 'Illinois',
  IN: 'Indiana',
  IA: 'Iowa',
  KS: 'Kansas',
  KY: 'Kentucky',
  LA: 'Louisiana',
  ME: 'Maine',
  MD: 'Maryland',
  MA: 'Massachusetts',
  MI: 'Michigan',
  MN: 'Minnesota',
  MS: 'Mississippi',
  MO: 'Missouri',
  MT: 'Montana',
  NE: 'Nebraska',
  NV: 'Nevada',
  NH: 'New Hampshire',
  NJ: 'New Jersey',
  NM: 'New Mexico',
  NY: 'New York',
  NC: 'North Carolina',
  ND: 'North Dakota',
  OH: 'Ohio',
  OK: 'Oklahoma',
  OR: 'Oregon',
  PA: 'Pennsylvania',
  RI: 'Rhode Island',
  SC: 'South Carolina',
  SD: 'South Dakota',
  TN: 'Tennessee',
  TX: 'Texas',
  UT: 'Utah',
  VT: 'Vermont',
  VA: 'Virginia',
  WA: 'Washington',
  WV: 'West Virginia',
  WI: 'Wisconsin',
  WY: 'Wyoming',
  // Territories and freely associated states with USPS codes.
  PR: 'Puerto Rico',
  VI: 'U.S. Virgin Islands',
  GU: 'Guam',
  AS: 'American Samoa',
  MP: 'Northern Mariana Islands',
  FM: 'Micronesia',
  MH: 'Marshall Islands',
  PW: 'Palau',
  // Military post offices.
  AA: 'Armed Forces Americas',
  AE: 'Armed Forces Europe',
  AP: 'Armed Forces Pacific',
} as const;

export type StateCode = keyof typeof US_STATES;

// AP-style and other common abbreviations, written without dots (dots are dropped before lookup).
const ALIASES: Record<string, StateCode> = {
  ala: 'AL',
  ariz: 'AZ',
  ark: 'AR',
  calif: 'CA',
  cal: 'CA',
  colo: 'CO',
  conn: 'CT',
  del: 'DE',
  fla: 'FL',
  ill: 'IL',
  ind: 'IN',
  kan: 'KS',
  kans: 'KS',
  mass: 'MA',
  mich: 'MI',
  minn: 'MN',
  miss: 'MS',
  mont: 'MT',
  neb: 'NE',
  nebr: 'NE',
  nev: 'NV',
  okla: 'OK',
  ore: 'OR',
  oreg: 'OR',
  penn: 'PA',
  penna: 'PA',
  tenn: 'TN',
  tex: 'TX',
  wash: 'WA',
  'w va': 'WV',
  wis: 'WI',
  wisc: 'WI',
  wyo: 'WY',
  'washington dc': 'DC',
  'washington d c': 'DC',
  'd c': 'DC',
  'virgin islands': 'VI',
  'us virgin islands': 'VI',
  'u s virgin islands': 'VI',
  'commonwealth of puerto rico': 'PR',
  'federated states of micronesia': 'FM',
  'northern marianas': 'MP',
  saipan: 'MP',
  'n y': 'NY',
  'n j': 'NJ',
  'n h': 'NH',
  'n m': 'NM',
  'n c': 'NC',
  'n d': 'ND',
  's c': 'SC',
  's d': 'SD',
  'r i': 'RI',
  'n dak': 'ND',
  's dak': 'SD',
};

// "N.Y." -> "n y", "Washington, D.C." -> "washington d c", "new  york" -> "new york".
export function normalizeStateText(text: string): string {
  return text
    .toLowerCase()
    .replace(/\./g, ' ')
    .replace(/[,\-_]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

let lookup: Map<string, StateCode> | undefined;

function stateLookup(): Map<string, StateCode> {
  if (lookup) return lookup;
  lookup = new Map<string, StateCode>();
  for (const [code, name] of Object.entries(US_STATES) as [StateCode, string][]) {
    lookup.set(code.toLowerCase(), code);
    lookup.set(normalizeStateText(name), code);
  }
  for (const [alias, code] of Object.entries(ALIASES)) lookup.set(alias, code);
  return lookup;
}

/** The USPS code for a state written as a code, a name or a common abbreviation, in any case. */
export function stateCodeOf(text: string): StateCode | undefined {
  const normalized = normalizeStateText(text);
  return stateLookup().get(normalized) ?? stateLookup().get(normalized.replace(/ /g, ''));
}
