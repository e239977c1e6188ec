// docker-compose.yml without a Docker engine: the Compose CLI itself (built with Go) reads and resolves
// the file, and its herald services run natively as separate processes, each with its command and
// environment from the file, pointed at this run's Postgres, Temporal and S3.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cp, mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../lib/config';
import { createSql, type Sql } from '../lib/db';
import { loadCompanyPlan } from '../lib/messages/due-steps';
import { upcomingReminders } from '../lib/messages/upcoming';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../lib/names';
import { freePort } from '../lib/runtime/ports';
import { GO_TOOLS, requireGoTool } from '../lib/runtime/go-tools';
import { envSchema } from '../schemas/config';
import { composeWorkers } from '../bench/compose-workers';
import { herald } from './support/cli';

interface Service {
  image?: string;
  command?: string[] | null;
  entrypoint?: string[] | null;
  environment?: Record<string, string | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test?: string[]; disable?: boolean };
  restart?: string;
  user?: string;
  ports?: { host_ip?: string; target: number; published?: string }[];
  volumes?: { type: string; source?: string; target: string }[];
}
interface Resolved {
  services: Record<string, Service>;
}

const REQUIRED = {
  POSTGRES_PASSWORD: 'pw-from-env',
  S3_ACCESS_KEY_ID: 'key-from-env',
  S3_SECRET_ACCESS_KEY: 'secret-from-env',
};
let compose: string;
let projectDir: string;
let resolved: Resolved;
let sql: Sql;

/** `docker compose` on a copy of the files (so a developer's .env is not read), with exactly `env`. */
function composeCli(args: string[], env: Record<string, string>) {
  return spawnSync(
    compose,
    ['--project-directory', projectDir, '-f', path.join(projectDir, 'docker-compose.yml'), ...args],
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      encoding: 'utf8',
    },
  );
}

beforeAll(async () => {
  compose = (await requireGoTool(GO_TOOLS.compose, { notice: (m) => process.stderr.write(m + '\n') })).path;
  projectDir = await mkdtemp(path.join(os.tmpdir(), 'herald-compose-'));
  await cp(path.join(PROJECT_ROOT, 'docker-compose.yml'), path.join(projectDir, 'docker-compose.yml'));
  await cp(path.join(PROJECT_ROOT, 'deploy'), path.join(projectDir, 'deploy'), { recursive: true });
  const run = composeCli(['config', '--format', 'json'], REQUIRED);
  expect(run.stderr).toBe('');
  resolved = JSON.parse(run.stdout) as Resolved;
  sql = createSql({ url: process.env.DATABASE_URL!, actor: 'test' });
}, 900_000);
afterAll(async () => {
  await sql?.end();
});

const heraldServices = () => Object.entries(resolved.services).filter(([, s]) => s.image === 'herald:local');

describe('docker-compose.yml, read by the Compose CLI', () => {
  it('passes `docker compose config -q` with its required variables set', () => {
    const run = composeCli(['config', '-q'], REQUIRED);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });

  it('has no default passwords: each required variable is named when missing', () => {
    for (const missing of Object.keys(REQUIRED)) {
      const env = Object.fromEntries(Object.entries(REQUIRED).filter(([k]) => k !== missing));
      const run = composeCli(['config', '-q'], env);
      expect(run.status, missing).not.toBe(0);
      expect(run.stderr).toContain(`required variable ${missing} is missing a value: set ${missing} in .env`);
    }
  });

  it('runs maintained images: the Temporal server with its schema and namespace jobs, UI 2.4x, versitygw', () => {
    const s = resolved.services;
    expect(s.temporal!.image).toMatch(/^temporalio\/server:1\.(3[1-9]|[4-9]\d)\./);
    expect(s['temporal-schema']!.image).toMatch(/^temporalio\/admin-tools:1\.(3[1-9]|[4-9]\d)\./);
    expect(s['temporal-ui']!.image).toMatch(/^temporalio\/ui:2\.4\d\./);
    expect(s.s3!.image).toMatch(/^versity\/versitygw:v1\.8\./);
    const images = Object.values(s).map((x) => x.image ?? '');
    expect(images.filter((i) => /minio|auto-setup/.test(i))).toEqual([]);
    expect(s.temporal!.depends_on).toMatchObject({
      'temporal-schema': { condition: 'service_completed_successfully' },
      'temporal-archival': { condition: 'service_completed_successfully' },
    });
  });

  it('publishes nothing beyond 127.0.0.1, and every long-running service has a healthcheck', () => {
    for (const [name, service] of Object.entries(resolved.services)) {
      for (const port of service.ports ?? [])
        expect(port.host_ip, `${name} publishes ${port.target}`).toBe('127.0.0.1');
      if (service.restart !== 'no') {
        expect(service.healthcheck?.test, `${name} has a healthcheck`).toBeDefined();
        expect(service.healthcheck?.disable, name).not.toBe(true);
      }
    }
    // the herald services ask their readiness endpoint
    for (const [name, service] of heraldServices())
      if (service.restart !== 'no') expect(service.healthcheck!.test!.join(' '), name).toContain('/readyz');
  });

  it('lets herald-migrate wait for Postgres, the Temporal namespace and S3; the workers wait for it', () => {
    expect(resolved.services['herald-migrate']!.depends_on).toMatchObject({
      postgres: { condition: 'service_healthy' },
      'temporal-namespace': { condition: 'service_completed_successfully' },
      s3: { condition: 'service_healthy' },
    });
    for (const [name, service] of heraldServices())
      if (name !== 'herald-migrate')
        expect(service.depends_on, name).toMatchObject({
          'herald-migrate': { condition: 'service_completed_successfully' },
        });
  });

  it("gives Temporal's archival directory to the server's user and one partition to every task queue", async () => {
    const archival = resolved.services['temporal-archival']!;
    expect(archival.user).toBe('root');
    expect(archival.entrypoint!.join(' ')).toContain('chown -R 1000:1000 /etc/temporal/archival');
    expect(archival.volumes!.map((v) => v.target)).toContain('/etc/temporal/archival');
    const dynamic = yaml.load(
      await readFile(path.join(PROJECT_ROOT, 'deploy/temporal/dynamicconfig.yaml'), 'utf8'),
    ) as Record<string, { value: unknown }[]>;
    expect(dynamic['matching.numTaskqueueReadPartitions']![0]!.value).toBe(1);
    expect(dynamic['matching.numTaskqueueWritePartitions']![0]!.value).toBe(1);
    const script = await readFile(path.join(PROJECT_ROOT, 'deploy/temporal/setup.sh'), 'utf8');
    const loop = /for name in ([A-Za-z ]+); do/.exec(script)![1]!.split(' ');
    expect(loop.sort()).toEqual(Object.values(SEARCH_ATTRIBUTES).sort());
  });

  it("publishes the UI on a variable of its own, not the embedded dev server's TEMPORAL_UI_PORT", () => {
    const run = composeCli(['config', '--format', 'json'], {
      ...REQUIRED,
      TEMPORAL_UI_PORT: '9999',
      PUBLISH_TEMPORAL_UI_PORT: '18080',
    });
    const ui = (JSON.parse(run.stdout) as Resolved).services['temporal-ui']!;
    expect(ui.ports!.map((p) => p.published)).toEqual(['18080']);
  });

  it('gives herald only variables its configuration knows, and one dispatch worker per active region', async () => {
    const known = new Set(Object.keys(envSchema.shape));
    for (const [name, service] of heraldServices())
      expect(
        Object.keys(service.environment ?? {}).filter((k) => !known.has(k)),
        `${name}'s environment`,
      ).toEqual([]);
    const regions = await sql<{ task_queue: string }[]>`select task_queue from regions where active`;
    const hosted = heraldServices().flatMap(([, s]) => (s.environment?.WORKER_TASK_QUEUES ?? '').split(','));
    expect(regions.map((r) => r.task_queue).filter((q) => !hosted.includes(q))).toEqual([]);
  });

  it('sends from worker-send alone: the region and pipeline workers host no send queue', () => {
    const workers = heraldServices().filter(([, s]) => s.command?.includes('workers/main.ts'));
    // WORKER_SEND_ACCOUNTS unset means all: every worker that leaves it unset hosts every send queue
    const senders = workers.filter(([, s]) => (s.environment?.WORKER_SEND_ACCOUNTS ?? 'all') !== 'none');
    expect(senders.map(([name]) => name)).toEqual(['worker-send']);
    expect(senders[0]![1].environment).toMatchObject({
      WORKER_TASK_QUEUES: 'none',
      WORKER_SEND_ACCOUNTS: 'all',
    });
  });

  it("is the layout bench:reminders --workers split runs: each worker service's flags and queues", async () => {
    const fromCli = heraldServices()
      .filter(([, s]) => s.command?.includes('workers/main.ts'))
      .map(([name, s]) => ({
        name,
        nodeArgs: s.command!.slice(1, s.command!.indexOf('--import')),
        env: Object.fromEntries(
          ['WORKER_TASK_QUEUES', 'WORKER_SEND_ACCOUNTS'].flatMap((k) =>
            s.environment?.[k] == null ? [] : [[k, s.environment[k]]],
          ),
        ),
      }));
    const fromBench = await composeWorkers({}, path.join(projectDir, 'docker-compose.yml'));
    expect(fromBench.sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      fromCli.sort((a, b) => a.name.localeCompare(b.name)),
    );
    // --scale runs a service's replicas, as `docker compose up --scale` does
    const scaled = await composeWorkers(
      { 'dispatch-pacific': 2 },
      path.join(projectDir, 'docker-compose.yml'),
    );
    expect(scaled.filter((w) => w.name.startsWith('dispatch-pacific')).map((w) => w.name)).toEqual([
      'dispatch-pacific-1',
      'dispatch-pacific-2',
    ]);
  });
});

describe("docker-compose.yml's herald services, run natively", () => {
  const running: ChildProcess[] = [];
  afterAll(async () => {
    await Promise.all(
      running.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
  });

  /** The service's environment from the file, its servers swapped for this run's, its ports free ones. */
  async function nativeEnv(service: Service): Promise<NodeJS.ProcessEnv> {
    const fromFile = Object.fromEntries(
      Object.entries(service.environment ?? {}).filter((e): e is [string, string] => e[1] !== null),
    );
    return {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...fromFile,
      // the stack's own hosts (postgres, temporal, s3) exist only on the compose network
      DATABASE_URL: process.env.DATABASE_URL,
      TEMPORAL_ADDRESS: process.env.TEMPORAL_ADDRESS,
      TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE,
      S3_ENDPOINT: process.env.S3_ENDPOINT,
      S3_ACCESS_KEY_ID: process.env.S3_ACCESS_KEY_ID,
      S3_SECRET_ACCESS_KEY: process.env.S3_SECRET_ACCESS_KEY,
      // the image's prebuilt bundle, built for this run by the global set-up
      WORKFLOW_BUNDLE_PATH: process.env.WORKFLOW_BUNDLE_PATH,
      // each container has its own ports; here the processes share one machine's loopback
      OPS_HOST: '127.0.0.1',
      OPS_PORT: String(await freePort()),
      ...(fromFile.INGRESS_PORT ? { INGRESS_PORT: String(await freePort()) } : {}),
    };
  }

  function start(name: string, service: Service, env: NodeJS.ProcessEnv): ChildProcess {
    const [program, ...args] = service.command!;
    expect(program, name).toBe('node');
    const child = spawn(process.execPath, args, {
      cwd: PROJECT_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
    child.on('exit', (code) => {
      if (code) process.stderr.write(`${name} exited ${code}:\n${output.slice(-2000)}\n`);
    });
    running.push(child);
    return child;
  }

  /** Waits for the compose healthcheck's target: /readyz on the service's ops port. */
  async function ready(name: string, child: ChildProcess, port: string): Promise<void> {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode}`);
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('migrates, starts every worker and the ingress, ingests a packet and sends a reminder run', async () => {
    const services = Object.fromEntries(heraldServices());
    // herald-migrate first, to completion, as compose orders it
    const migrateEnv = await nativeEnv(services['herald-migrate']!);
    const migrate = start('herald-migrate', services['herald-migrate']!, migrateEnv);
    expect(await new Promise((resolve) => migrate.once('exit', resolve))).toBe(0);

    const longRunning = Object.entries(services).filter(([name]) => name !== 'herald-migrate');
    expect(longRunning.map(([n]) => n)).toEqual(
      expect.arrayContaining(['worker-pipeline', 'ingress', 'dispatch-pacific']),
    );
    await Promise.all(
      longRunning.map(async ([name, service]) => {
        const env = await nativeEnv(service);
        await ready(name, start(name, service, env), env.OPS_PORT!);
      }),
    );

    const upload = await herald(
      [
        'upload',
        path.join(PROJECT_ROOT, 'loadmaps/samples/demo-clinic-ehr-appointments.csv'),
        '--company',
        'demo-clinic',
        '--timeout',
        '300',
        '--json',
      ],
      { TEMPORAL_NAMESPACE: process.env.TEMPORAL_NAMESPACE },
    );
    expect(upload.stderr).not.toContain('no worker is polling');
    expect(upload.code).toBe(0);
    const packet = JSON.parse(upload.stdout) as { packetUuid?: string; uuid?: string; stage: string };
    expect(packet.stage).toBe('done');

    // as of the day after the first reminder falls due: a run over every region's dispatch worker
    const [company] = await sql<{ id: number }[]>`select id from companies where alias = 'demo-clinic'`;
    const [first] = await upcomingReminders(sql, (await loadCompanyPlan(sql, company!.id))!, {
      from: new Date().toISOString(),
      to: new Date(Date.now() + 365 * 86_400_000).toISOString(),
      now: new Date().toISOString(),
      limit: 1,
    });
    expect(first?.at).toBeTruthy();
    const now = new Date(first!.at.getTime() + 86_400_000).toISOString();
    const run = await herald([
      'reminders',
      'run',
      '--company',
      'demo-clinic',
      '--now',
      now,
      '--timeout',
      '300',
      '--json',
    ]);
    expect(run.stderr).not.toContain('no worker is polling');
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { regions: { sent?: number }[]; failed: unknown[] };
    expect(summary.failed).toEqual([]);
    const [sent] = await sql<{ n: number }[]>`
      select count(*)::int as n from messages m join companies c on c.id = m.company_id
      where c.alias = 'demo-clinic' and m.state in ('sent', 'delivered') and m.sent_at is not null`;
    expect(sent!.n).toBeGreaterThan(0);
    // the pipeline queue was served by the compose file's worker-pipeline process, not by this test
    expect(TASK_QUEUES.pipeline).toBe(services['worker-pipeline']!.environment!.WORKER_TASK_QUEUES);
  });
});
