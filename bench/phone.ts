// Throwaway benchmark behind lib/clean/phone.ts: libphonenumber-js min vs max, the NANP fast path, a cache.
// Run: npx tsx bench/phone.ts
import { parsePhoneNumberFromString as parseMin } from 'libphonenumber-js';
import { parsePhoneNumberFromString as parseMax } from 'libphonenumber-js/max';
import { cleanPhone } from '../lib/clean/phone';
import { parsePlainNanp } from '../lib/clean/phone-nanp';

const N = 200_000;
let seed = 7;
const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648;
const areaCodes = ['212', '415', '312', '713', '305', '617', '404', '206', '602', '808'];
const spell = (i: number): string => {
  const a = areaCodes[i % areaCodes.length]!;
  const x = String(200 + Math.floor(random() * 800));
  const l = String(Math.floor(random() * 10_000)).padStart(4, '0');
  return [`(${a}) ${x}-${l}`, `${a}.${x}.${l}`, `+1 ${a} ${x} ${l}`, `1-${a}-${x}-${l}`, `${a}${x}${l}`][
    i % 5
  ]!;
};
const unique = Array.from({ length: N }, (_, i) => spell(i));
// A realistic file: about a third of rows repeat a number seen earlier (several appointments per person).
const repeated = unique.map((s, i) => (i % 3 === 0 && i > 0 ? unique[Math.floor(random() * i)]! : s));
const messy = unique.map((s, i) => (i % 2 ? `${s} ext ${i % 100}` : s.replace(/ /g, '  ')));

function time(label: string, inputs: string[], run: (s: string) => unknown): void {
  for (let round = 0; round < 2; round += 1) {
    const started = performance.now();
    for (const s of inputs) run(s);
    const ms = performance.now() - started;
    if (round === 1)
      console.log(`${label.padEnd(52)} ${((ms * 1000) / inputs.length).toFixed(2).padStart(7)} µs/number`);
  }
}

time('libphonenumber-js min, parse + isValid', unique, (s) => parseMin(s, 'US')?.isValid());
time('libphonenumber-js max, parse + isValid', unique, (s) => parseMax(s, 'US')?.isValid());
time('NANP fast path alone', unique, (s) => parsePlainNanp(s, 'US'));
time('cleanPhone, plain spellings (fast path)', unique, (s) => cleanPhone(s));
time('cleanPhone, 1/3 repeated plain spellings', repeated, (s) => cleanPhone(s));
time('cleanPhone, messy spellings (library, unique)', messy, (s) => cleanPhone(s));
const messyRepeated = messy.map((s, i) => (i % 3 === 0 && i > 0 ? messy[Math.floor(random() * i)]! : s));
time('cleanPhone, messy spellings, 1/3 repeated far apart', messyRepeated, (s) => cleanPhone(s));
time('library alone on the same messy, 1/3 repeated', messyRepeated, (s) => parseMax(s, 'US')?.isValid());
// Repeats close together (a person's appointments listed next to each other), within the cache's reach.
const messyLocal = messy.map((s, i) =>
  i % 3 === 0 && i > 10 ? messy[i - 1 - Math.floor(random() * 10)]! : s,
);
time('cleanPhone, messy, 1/3 repeated nearby', messyLocal, (s) => cleanPhone(s));
time('library alone, messy, 1/3 repeated nearby', messyLocal, (s) => parseMax(s, 'US')?.isValid());
