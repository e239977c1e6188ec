// The quiet-hours decisions of a screening: a run's pages (one clock, a few zones) against the same
// decisions each at a clock of its own (nothing to reuse: what every decision cost before it kept
// answers). Run: npx tsx bench/quiet-hours.ts
import { companyRules, quietHoursDecision } from '../lib/reminders/quiet-hours';
import { DEFAULT_QUIET_HOURS_POLICY } from '../schemas/reminder-settings';

const N = 20_000;
const rules = companyRules(DEFAULT_QUIET_HOURS_POLICY, {});
const PLACES = [
  { state: 'NY', timezone: 'America/New_York' },
  { state: 'FL', timezone: 'America/New_York' },
  { state: 'IL', timezone: 'America/Chicago' },
  { state: 'TX', timezone: 'America/Chicago' },
  { state: 'CO', timezone: 'America/Denver' },
  { state: 'CA', timezone: 'America/Los_Angeles' },
  { state: null, timezone: null },
];
// 10:00 in New York on a weekday: some zones are open, the Pacific is not yet
const at = new Date('2026-12-08T15:00:00Z');
const decide = (i: number, clock: Date) =>
  quietHoursDecision({
    at: clock,
    channel: 'sms',
    recipient: { ...PLACES[i % PLACES.length]!, phone: '+12125550100' },
    companyTimezone: 'America/New_York',
    rules,
    expiresAt: new Date(clock.getTime() + 2 * 86_400_000),
  });

function time(run: (i: number) => unknown): number {
  let ms = 0;
  for (let round = 0; round < 3; round++) {
    const started = performance.now();
    for (let i = 0; i < N; i++) run(i);
    ms = performance.now() - started;
  }
  return (ms * 1000) / N;
}

// a clock a second apart per decision: no two share an answer
const alone = time((i) => decide(i, new Date(at.getTime() + i * 1000)));
const run = time((i) => decide(i, at));
console.log(`each at its own clock   ${alone.toFixed(2).padStart(7)} µs/decision`);
console.log(`a run's pages           ${run.toFixed(2).padStart(7)} µs/decision`);
console.log(
  `bench:quiet-hours decisions=${N} alone_us=${alone.toFixed(2)} run_us=${run.toFixed(2)} ratio=${(alone / run).toFixed(1)}`,
);
