import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../lib/config';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { killAfter?: (out: string) => boolean; signal?: NodeJS.Signals } = {},
): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    const check = () => {
      if (!signalled && opts.killAfter?.(stdout + stderr)) {
        signalled = true;
        child.kill(opts.signal ?? 'SIGTERM');
      }
    };
    child.stdout.on('data', (c: Buffer) => ((stdout += c.toString()), check()));
    child.stderr.on('data', (c: Buffer) => ((stderr += c.toString()), check()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The environment of a machine with nothing configured: every server embedded. */
function bareEnv(dataDir: string): NodeJS.ProcessEnv {
  const keep = [
    'PATH',
    'HOME',
    'TMPDIR',
    'HERALD_CACHE_DIR',
    'XDG_CACHE_HOME',
    'TEMPORAL_CLI_PATH',
    'VERSITYGW_PATH',
  ];
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    keep.filter((k) => process.env[k]).map((k) => [k, process.env[k]]),
  );
  // any free ports: other test runs share this machine (a person's npm start keeps the fixed defaults)
  const ports = {
    EMBEDDED_POSTGRES_PORT: '0',
    EMBEDDED_TEMPORAL_PORT: '0',
    EMBEDDED_S3_PORT: '0',
    TEMPORAL_UI_PORT: '0',
  };
  return { ...env, ...ports, HERALD_DATA_DIR: dataDir, CI: 'true' };
}

/** `npm start -- --servers-only` until it says how to reach its servers; then `use` them, and Ctrl-C it. */
async function withServersOnly(dataDir: string, use: (variables: Record<string, string>) => Promise<void>) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts', '--servers-only'], {
    env: bareEnv(dataDir),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('Press Ctrl-C to stop the servers.')) resolve();
    });
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    void exited.then((code) => reject(new Error(`servers-only exited (${code}): ${out}`)));
  });
  const variables = Object.fromEntries(
    [...out.matchAll(/^ {2}([A-Z0-9_]+)=(\S+)$/gm)].map((m) => [m[1]!, m[2]!]),
  );
  try {
    await use(variables);
  } finally {
    child.kill('SIGINT');
  }
  expect(await exited).toBe(0);
  expect(out).toContain('herald: stopped.');
}

describe('npm start --once (the main job)', () => {
  it('brings up its own Postgres, Temporal and S3, runs the first workflow and prints the summary', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'herald-start-'));
    const result = await run(['scripts/start.ts', '--once'], bareEnv(dataDir));
    expect(result.stderr).not.toMatch(/herald: /);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/Postgres {4}embedded {2}127\.0\.0\.1:\d+\/herald/);
    expect(result.stdout).toMatch(/Temporal {4}embedded {2}127\.0\.0\.1:\d+ namespace default/);
    expect(result.stdout).toContain('Company demo-clinic (Lakeside Family Clinic)');
    expect(result.stdout).toContain('ready       yes');
    expect(result.stdout).toMatch(/report {6}s3:\/\/herald\/reports\/readiness\/demo-clinic\//);
    expect(result.stdout).toMatch(
      /workflow {4}http:\/\/127\.0\.0\.1:\d+\/namespaces\/default\/workflows\/readiness%2Fdemo-clinic/,
    );
    // reminders: sent through reminder runs, the provider's callbacks and two replies through the signed ingress
    expect(result.stdout).toMatch(/Reminder run of demo-clinic at \S+: \d+ due, [1-9]\d* sent/);
    expect(result.stdout).toMatch(/a forged callback \(wrong signature\): HTTP 403, nothing written/);
    expect(result.stdout).toMatch(/"STOP" from \S+: do_not_sms set/);
    expect(result.stdout).toMatch(/"C" from \S+: appointment confirmed, reminder sequence completed/);
    expect(result.stdout).toContain('herald: stopped.');
    // the one worker runtime gives the send caps' window shares back before the database closes
    expect(result.stdout + result.stderr).not.toMatch(/renewal failed|renew/i);

    // the servers alone, for workers run apart: durable Postgres, and what a person saw as loaded data
    await withServersOnly(dataDir, async (variables) => {
      expect(Object.keys(variables)).toEqual(
        expect.arrayContaining(['DATABASE_URL', 'TEMPORAL_ADDRESS', 'S3_ENDPOINT', 'S3_ACCESS_KEY_ID']),
      );
      const sql = postgres(variables.DATABASE_URL!, { max: 1, onnotice: () => {} });
      try {
        const settings = await sql<{ name: string; setting: string }[]>`
          select name, setting from pg_settings
          where name in ('fsync', 'synchronous_commit', 'full_page_writes') order by name`;
        expect(settings).toEqual([
          { name: 'fsync', setting: 'on' },
          { name: 'full_page_writes', setting: 'on' },
          { name: 'synchronous_commit', setting: 'on' },
        ]);
        // an appointment a user loaded into the demo company, from a packet of their own
        await sql`
          with company as (select id from companies where alias = 'demo-clinic'),
          packet as (
            insert into data_packets (company_id, dedupe_key, object_key)
            select id, 'a user upload', 'raw/user-upload.csv' from company returning id, company_id)
          insert into appointments (company_id, contact_id, dedupe_key, starts_at, last_packet_id)
          select p.company_id, (select min(id) from contacts where company_id = p.company_id),
                 'user-appointment-1', now() + interval '3 days', p.id
          from packet p`;
      } finally {
        await sql.end();
      }
    });

    // a second start on the same data keeps it: the schema is not re-applied, the history is still there;
    // its demo leaves what the user loaded alone (no reminder runs on a simulated clock over it)
    const again = await run(['scripts/start.ts', '--once'], bareEnv(dataDir));
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('ready       yes');
    expect(again.stdout).toContain(
      'demo-clinic also holds 1 appointments that did not come from the samples',
    );
    expect(again.stdout).not.toMatch(/Reminder run of demo-clinic at/);

    // Ctrl-C in the middle of the demo stops it, with the servers
    const interrupted = await run(['scripts/start.ts'], bareEnv(dataDir), {
      killAfter: (out) => out.includes('Ingest of the sample files'),
      signal: 'SIGINT',
    });
    expect(interrupted.code).toBe(0);
    expect(interrupted.stdout).toContain('herald: stopped.');
  }, 900_000);

  it('stops with a clear message and exit code 2 when the configuration is wrong', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'herald-start-'));
    const result = await run(['scripts/start.ts', '--once'], {
      ...bareEnv(dataDir),
      DATABASE_URL: 'mysql://nope',
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('DATABASE_URL must start with postgres: or postgresql:');
  });
});

describe('the worker process', () => {
  it('hosts the queues it is told to and shuts down cleanly on SIGTERM, logging at LOG_LEVEL', async () => {
    const result = await run(
      ['workers/main.ts', '--queues', 'test-shutdown-a,test-shutdown-b'],
      { ...process.env, LOG_LEVEL: 'debug' },
      {
        killAfter: (out) => out.includes('worker running'),
      },
    );
    expect(result.code).toBe(0);
    const lines = result.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; taskQueues?: string[] });
    const running = lines.find((l) => l.msg === 'worker running');
    expect(running?.taskQueues).toEqual(['test-shutdown-a', 'test-shutdown-b']);
    expect(lines.map((l) => l.msg)).toContain('shutting down: finishing in-flight tasks');
    expect(lines.at(-1)?.msg).toBe('worker stopped');
    // LOG_LEVEL is honoured, not forced to info
    expect(lines.map((l) => l.msg)).toContain('workers created');
  });

  it('with WORKER_TASK_QUEUES=none hosts the send queues alone, and refuses to host nothing', async () => {
    const sendOnly = await run(
      ['workers/main.ts'],
      { ...process.env, LOG_LEVEL: 'debug', WORKER_TASK_QUEUES: 'none', WORKER_SEND_ACCOUNTS: 'all' },
      { killAfter: (out) => out.includes('worker running') },
    );
    expect(sendOnly.code, sendOnly.stderr).toBe(0);
    const lines = sendOnly.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string; workflowQueues?: string[]; sendQueues?: string[] });
    const created = lines.find((l) => l.msg === 'workers created');
    // no workflow queue (not the pipeline queue a worker hosts by default), every active account's send queue
    expect(created?.workflowQueues).toEqual([]);
    expect(created?.sendQueues).toEqual(expect.arrayContaining(['herald-send-outbox-outbox-sms']));

    const nothing = await run(['workers/main.ts'], {
      ...process.env,
      WORKER_TASK_QUEUES: 'none',
      WORKER_SEND_ACCOUNTS: 'none',
    });
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain(
      'WORKER_TASK_QUEUES names no task queue and WORKER_SEND_ACCOUNTS (none)',
    );
  });
});

describe('a CLI command outside npm start', () => {
  const tsx = pathToFileURL(path.join(PROJECT_ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
  const cli = path.join(PROJECT_ROOT, 'scripts/herald.ts');
  const inDirectory = (cwd: string, env: NodeJS.ProcessEnv) =>
    new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, ['--import', tsx, cli, 'migrate'], { cwd, env, stdio: 'pipe' });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });

  it('fails naming each unset server variable instead of starting an empty local world; reads .env', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'herald-cli-env-'));
    const env = { PATH: process.env.PATH, HOME: dir, HERALD_DATA_DIR: path.join(dir, 'data'), CI: 'true' };
    const bare = await inDirectory(dir, env);
    expect(bare.code).toBe(2);
    for (const variable of ['DATABASE_URL', 'TEMPORAL_ADDRESS', 'S3_ENDPOINT'])
      expect(bare.stderr).toMatch(new RegExp(`${variable} is not set`));
    expect(bare.stderr).toContain('HERALD_EMBEDDED=1');
    expect(existsSync(path.join(dir, 'data', 'postgres'))).toBe(false);

    // the same command with the test run's servers in a .env of its directory
    const keys = [
      'DATABASE_URL',
      'TEMPORAL_ADDRESS',
      'S3_ENDPOINT',
      'S3_ACCESS_KEY_ID',
      'S3_SECRET_ACCESS_KEY',
    ];
    await writeFile(path.join(dir, '.env'), keys.map((k) => `${k}=${process.env[k]}`).join('\n') + '\n');
    const configured = await inDirectory(dir, env);
    expect(configured.stderr).toBe('');
    expect(configured.code).toBe(0);
    expect(configured.stdout).toContain('schema is up to date');
  });
});
