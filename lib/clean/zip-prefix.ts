// Which state a US ZIP code belongs to, by its first three digits (USPS sectional center ranges).
import type { StateCode } from './us-states';

export interface ZipPrefixRange {
  from: number;
  to: number;
  state: StateCode;
}

// USPS blocks by state, the one copy herald keeps: the ingest stages each row's ZIP state from it, which the
// merge turns into the contact's state and region (lib/ingest/merge.ts). Prefixes outside every block (000-004, 428-429, 694-699, 732, 817-819, ...) are
// not ZIP codes. A few unused prefixes inside a block (213 in Maryland's) are accepted on purpose: refusing a
// real address costs more than accepting an unused prefix.
export const ZIP_PREFIX_RANGES: readonly ZipPrefixRange[] = [
  { from: 5, to: 5, state: 'NY' }, // Holtsville IRS
  { from: 6, to: 7, state: 'PR' },
  { from: 8, to: 8, state: 'VI' },
  { from: 9, to: 9, state: 'PR' },
  { from: 10, to: 27, state: 'MA' },
  { from: 28, to: 29, state: 'RI' },
  { from: 30, to: 38, state: 'NH' },
  { from: 39, to: 49, state: 'ME' },
  { from: 50, to: 54, state: 'VT' },
  { from: 55, to: 55, state: 'MA' }, // Andover IRS
  { from: 56, to: 59, state: 'VT' },
  { from: 60, to: 69, state: 'CT' },
  { from: 70, to: 89, state: 'NJ' },
  { from: 90, to: 98, state: 'AE' },
  { from: 100, to: 149, state: 'NY' },
  { from: 150, to: 196, state: 'PA' },
  { from: 197, to: 199, state: 'DE' },
  { from: 200, to: 200, state: 'DC' },
  { from: 201, to: 201, state: 'VA' }, // Dulles
  { from: 202, to: 205, state: 'DC' },
  { from: 206, to: 219, state: 'MD' },
  { from: 220, to: 246, state: 'VA' },
  { from: 247, to: 268, state: 'WV' },
  { from: 270, to: 289, state: 'NC' },
  { from: 290, to: 299, state: 'SC' },
  { from: 300, to: 319, state: 'GA' },
  { from: 320, to: 339, state: 'FL' },
  { from: 340, to: 340, state: 'AA' },
  { from: 341, to: 349, state: 'FL' },
  { from: 350, to: 369, state: 'AL' },
  { from: 370, to: 385, state: 'TN' },
  { from: 386, to: 397, state: 'MS' },
  { from: 398, to: 399, state: 'GA' },
  { from: 400, to: 427, state: 'KY' },
  { from: 430, to: 459, state: 'OH' },
  { from: 460, to: 479, state: 'IN' },
  { from: 480, to: 499, state: 'MI' },
  { from: 500, to: 528, state: 'IA' },
  { from: 530, to: 549, state: 'WI' },
  { from: 550, to: 567, state: 'MN' },
  { from: 569, to: 569, state: 'DC' },
  { from: 570, to: 577, state: 'SD' },
  { from: 580, to: 588, state: 'ND' },
  { from: 590, to: 599, state: 'MT' },
  { from: 600, to: 629, state: 'IL' },
  { from: 630, to: 658, state: 'MO' },
  { from: 660, to: 679, state: 'KS' },
  { from: 680, to: 693, state: 'NE' },
  { from: 700, to: 714, state: 'LA' },
  { from: 716, to: 729, state: 'AR' },
  { from: 730, to: 731, state: 'OK' },
  { from: 733, to: 733, state: 'TX' }, // Austin IRS
  { from: 734, to: 749, state: 'OK' },
  { from: 750, to: 799, state: 'TX' },
  { from: 800, to: 816, state: 'CO' },
  { from: 820, to: 831, state: 'WY' },
  { from: 832, to: 838, state: 'ID' },
  { from: 840, to: 847, state: 'UT' },
  { from: 850, to: 865, state: 'AZ' },
  { from: 870, to: 884, state: 'NM' },
  { from: 885, to: 885, state: 'TX' }, // El Paso
  { from: 889, to: 898, state: 'NV' },
  { from: 900, to: 961, state: 'CA' },
  { from: 962, to: 966, state: 'AP' },
  { from: 967, to: 968, state: 'HI' },
  { from: 969, to: 969, state: 'GU' },
  { from: 970, to: 979, state: 'OR' },
  { from: 980, to: 994, state: 'WA' },
  { from: 995, to: 999, state: 'AK' },
];

// Five-digit codes whose prefix belongs to another state: Pacific territories share 967/969 and
// Fishers Island, NY is served from Connecticut.
const ZIP_EXCEPTIONS: ReadonlyMap<string, StateCode> = new Map<string, StateCode>([
  ['06390', 'NY'],
  ['96799', 'AS'],
  ['96939', 'PW'],
  ['96940', 'PW'],
  ['96941', 'FM'],
  ['96942', 'FM'],
  ['96943', 'FM'],
  ['96944', 'FM'],
  ['96950', 'MP'],
  ['96951', 'MP'],
  ['96952', 'MP'],
  ['96960', 'MH'],
  ['96970', 'MH'],
]);

const BY_PREFIX: readonly (StateCode | undefined)[] = (() => {
  const table = new Array<StateCode | undefined>(1000).fill(undefined);
  for (const { from, to, state } of ZIP_PREFIX_RANGES) for (let p = from; p <= to; p += 1) table[p] = state;
  return table;
})();

/** The state of a ZIP code given as five digits or ZIP+4 ("02134", "02134-1234"); undefined if unassigned. */
export function stateForZip(zip: string): StateCode | undefined {
  if (!/^\d{5}(?:-?\d{4})?$/.test(zip)) return undefined;
  return ZIP_EXCEPTIONS.get(zip.slice(0, 5)) ?? BY_PREFIX[Number(zip.slice(0, 3))];
}

/** The state owning a three-digit ZIP prefix ("021" -> MA). */
export function stateForZipPrefix(prefix: string): StateCode | undefined {
  return /^\d{3}$/.test(prefix) ? BY_PREFIX[Number(prefix)] : undefined;
}
