// The fault suite: runs each scenario against the real parts and prints what it counted.
//   npm run chaos                  every scenario
//   npm run chaos -- --short       the short form (CI)
//   npm run chaos -- --only NAME   one scenario (repeatable)
// Exit code 1 when any count is above 0 or a scenario could not run; a JSON report goes to test-output/chaos.json.
import { readdir, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { addCounts, isClean, ZERO, type ChaosCounts, type ChaosScenario } from './support/counts';
import { currentWait, waitingFor } from './support/waits';
import { stopChaosWorld } from './support/world';
import { killWorkerProcesses } from '../support/worker-process';

const here = path.dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { short: { type: 'boolean', default: false }, only: { type: 'string', multiple: true } },
});

async function loadScenarios(): Promise<ChaosScenario[]> {
  const dir = path.join(here, 'scenarios');
  const files = (await readdir(dir)).filter((f) => f.endsWith('.ts')).sort();
  const all: ChaosScenario[] = [];
  for (const file of files) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { scenario?: ChaosScenario };
    if (!mod.scenario) throw new Error(`${file} exports no scenario`);
    all.push(mod.scenario);
  }
  return all;
}

/** A scenario's time unless it says otherwise: a hang fails the scenario, naming what it waited for. */
const DEFAULT_TIMEOUT_S = 600;

/** A scenario past its time: its message says all there is (the stack would be the runner's timer). */
class ScenarioTimedOut extends Error {}

function withinTime(scenario: ChaosScenario): Promise<ChaosCounts> {
  const seconds = scenario.timeoutSeconds ?? DEFAULT_TIMEOUT_S;
  waitingFor('the world to start');
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    scenario.run(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ScenarioTimedOut(`${scenario.name} ran past ${seconds} s, waiting for ${currentWait()}`),
          ),
        seconds * 1000,
      );
    }),
  ]).finally(() => clearTimeout(timer));
}

const format = (c: ChaosCounts) =>
  `duplicates=${c.duplicates} lost=${c.lost} wrong_tenant=${c.wrong_tenant} stuck=${c.stuck}`;

// scenarios size themselves by it (support/world.ts volume)
process.env.HERALD_CHAOS_FORM = values.short ? 'short' : 'full';
const all = await loadScenarios();
const unknown = (values.only ?? []).filter((n) => !all.some((s) => s.name === n));
if (unknown.length) {
  console.error(`no scenario named ${unknown.join(', ')}; there are: ${all.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const chosen = all.filter((s) => (values.only ? values.only.includes(s.name) : !values.short || s.short));

// a scenario that failed or ran past its time can leave a call behind that throws once its servers are
// stopped (a Temporal long poll retried on a closed connection): the run still reports and cleans up
const strays: string[] = [];
process.on('uncaughtException', (err) => {
  strays.push(err.message);
  console.error(`uncaught after a scenario: ${err.stack ?? err.message}`);
});

let total = ZERO;
const report: { name: string; counts?: ChaosCounts; error?: string; seconds: number; passed: boolean }[] = [];
const width = Math.max(...chosen.map((s) => s.name.length));
try {
  for (const scenario of chosen) {
    const started = Date.now();
    let counts: ChaosCounts | undefined;
    let error: string | undefined;
    try {
      counts = await withinTime(scenario);
    } catch (err) {
      error = err instanceof ScenarioTimedOut ? err.message : ((err as Error).stack ?? String(err));
    }
    const seconds = (Date.now() - started) / 1000;
    if (counts) total = addCounts(total, counts);
    const passed = !!counts && isClean(counts);
    report.push({ name: scenario.name, counts, error, seconds, passed });
    console.log(
      `${scenario.name.padEnd(width)}  ${counts ? format(counts) : `error: ${error}`}  (${seconds.toFixed(1)} s)`,
    );
  }
} finally {
  // a scenario stopped by its time leaves its workers running
  killWorkerProcesses();
  await stopChaosWorld();
}
console.log(`chaos: scenarios=${chosen.length} ${format(total)}`);
await mkdir('test-output', { recursive: true });
await writeFile(
  'test-output/chaos.json',
  JSON.stringify({ short: values.short, scenarios: report, total }, null, 2),
);
process.exit(report.every((r) => r.passed) && strays.length === 0 ? 0 : 1);
