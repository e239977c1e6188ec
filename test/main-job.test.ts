import { spawn } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(
  args: string[],
  env: NodeJS.ProcessEnv,
  opts: { killAfter?: (out: string) => boolean } = {},
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
        child.kill('SIGTERM');
      }
    };
    child.stdout.on('data', (c: Buffer) => ((stdout += c.toString()), check()));
    child.stderr.on('data', (c: Buffer) => ((stderr += c.toString()), check()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The environment of a machine with nothing configured: every server embedded. */
function bareEnv(dataDir: string): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'HERALD_CACHE_DIR', 'XDG_CACHE_HOME', 'TEMPORAL_CLI_PATH'];
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    keep.filter((k) => process.env[k]).map((k) => [k, process.env[k]]),
  );
  return { ...env, HERALD_DATA_DIR: dataDir, TEMPORAL_UI_PORT: '0', CI: 'true' };
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

    // a second start on the same data keeps it: the schema is not re-applied, the history is still there
    const again = await run(['scripts/start.ts', '--once'], bareEnv(dataDir));
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('ready       yes');
  });

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
  it('hosts the queues it is told to and shuts down cleanly on SIGTERM', async () => {
    const result = await run(
      ['workers/main.ts', '--queues', 'test-shutdown-a,test-shutdown-b'],
      process.env,
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
  });
});
