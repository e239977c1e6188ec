import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config';

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.variable} ${p.message}`);
  }
  throw new Error('expected a configuration error');
}

describe('configuration', () => {
  it('uses the embedded defaults when nothing is set', () => {
    const config = loadConfig({});
    expect(config.database.url).toBeUndefined();
    expect(config.temporal.address).toBeUndefined();
    expect(config.temporal.namespace).toBe('default');
    expect(config.temporal.uiPort).toBe(8233);
    expect(config.s3.endpoint).toBeUndefined();
    expect(config.s3.bucket).toBe('herald');
    expect(config.providers).toEqual({ sms: 'outbox', voice: 'outbox', email: 'outbox' });
    // unset: each process picks its own level
    expect(config.logLevel).toBeUndefined();
    // embedded servers only when asked, on the same ports at every start
    expect(config.embedded).toBe(false);
    expect(config.database.embeddedPort).toBe(5433);
    expect(config.temporal.embeddedPort).toBe(7233);
    expect(config.s3.embeddedPort).toBe(7070);
  });

  it('honours LOG_LEVEL and HERALD_EMBEDDED', () => {
    const config = loadConfig({ LOG_LEVEL: 'debug', HERALD_EMBEDDED: '1' });
    expect(config.logLevel).toBe('debug');
    expect(config.embedded).toBe(true);
  });

  it('treats empty values as unset', () => {
    const config = loadConfig({ DATABASE_URL: '', TEMPORAL_ADDRESS: '  ', LOG_LEVEL: '' });
    expect(config.database.url).toBeUndefined();
    expect(config.temporal.address).toBeUndefined();
    expect(config.logLevel).toBeUndefined();
  });

  it('reads configured servers', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://u:p@db:5432/herald',
      TEMPORAL_ADDRESS: 'temporal:7233',
      TEMPORAL_NAMESPACE: 'herald-prod',
      S3_ENDPOINT: 'http://minio:9000',
      S3_ACCESS_KEY_ID: 'minio',
      S3_SECRET_ACCESS_KEY: 'minio123',
      WORKER_TASK_QUEUES: 'herald-pipeline, herald-region-west',
    });
    expect(config.database.url).toBe('postgres://u:p@db:5432/herald');
    expect(config.temporal.address).toBe('temporal:7233');
    expect(config.s3.endpoint).toBe('http://minio:9000');
    expect(config.worker.taskQueues).toEqual(['herald-pipeline', 'herald-region-west']);
  });

  it('reads WORKER_TASK_QUEUES=none as no workflow queues, not a queue named none', () => {
    expect(loadConfig({ WORKER_TASK_QUEUES: 'none' }).worker.taskQueues).toEqual([]);
    expect(loadConfig({}).worker.taskQueues).toBeUndefined();
  });

  it.each([
    [{ DATABASE_URL: 'mysql://x/y' }, 'DATABASE_URL must start with postgres: or postgresql:'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL must be a URL'],
    [{ TEMPORAL_ADDRESS: 'temporal' }, 'TEMPORAL_ADDRESS must be host:port'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ S3_BUCKET: 'Bad_Bucket' }, 'S3_BUCKET must be a valid S3 bucket name'],
    [{ INGRESS_PORT: '99999' }, 'INGRESS_PORT must be a port number'],
    [{ TEMPORAL_TLS: 'maybe' }, 'TEMPORAL_TLS must be true or false'],
    [{ SMS_PROVIDER: 'carrier-pigeon' }, 'SMS_PROVIDER'],
    [{ TWILIO_FROM_NUMBER: '555-1234' }, 'TWILIO_FROM_NUMBER must be an E.164 number'],
    [
      { SMS_PROVIDER: 'twilio' },
      'TWILIO_ACCOUNT_SID is required when SMS_PROVIDER or VOICE_PROVIDER is twilio',
    ],
    [{ EMAIL_PROVIDER: 'ses' }, 'SES_FROM_ADDRESS is required when EMAIL_PROVIDER is ses'],
    [
      { S3_ENDPOINT: 'http://minio:9000' },
      'S3_ACCESS_KEY_ID is required when S3_ENDPOINT points at a server',
    ],
    [{ S3_ENDPOINT: 'ftp://x' }, 'S3_ENDPOINT must be an http(s) URL'],
    [{ WORKER_SEND_BATCHES: '0' }, 'WORKER_SEND_BATCHES must be a whole number from 1 to 1000'],
  ])('names the variable when %o is wrong', (env, expected) => {
    expect(problems(env).join('\n')).toContain(expected);
  });

  it('shows the wrong value, except for secrets', () => {
    expect(problems({ LOG_LEVEL: 'loud' }).join()).toContain('(got "loud")');
    const secret = problems({
      SMS_PROVIDER: 'twilio',
      TWILIO_ACCOUNT_SID: 'ACnothex',
      TWILIO_AUTH_TOKEN: 'hunter2',
    });
    expect(secret.join()).toContain('TWILIO_ACCOUNT_SID');
    expect(secret.join()).not.toContain('hunter2');
  });

  it('shows a wrong URL without its password', () => {
    const scheme = problems({ DATABASE_URL: 'mysql://herald:hunter22@db:5432/herald' }).join();
    expect(scheme).toContain('(got "mysql://herald:***@db:5432/herald")');
    expect(scheme).not.toContain('hunter22');
    // no URL at all (a missing ":"): nothing of it is shown
    const garbled = problems({ DATABASE_URL: 'postgres//herald:hunter22@db:5432/herald' }).join();
    expect(garbled).toContain('DATABASE_URL');
    expect(garbled).not.toContain('hunter22');
  });

  it('reports every problem at once', () => {
    expect(problems({ LOG_LEVEL: 'x', DATABASE_URL: 'y', INGRESS_PORT: 'z' })).toHaveLength(3);
  });

  it('stops a process with exit code 2 and a message naming the variable', () => {
    // node with the tsx loader, not npx: on a loaded machine npm's own start-up took most of the time
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
      env: { ...process.env, TEMPORAL_ADDRESS: 'no-port-here' },
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('TEMPORAL_ADDRESS must be host:port');
  }, 120_000);
});

describe('.env.example', () => {
  it('lists every variable the configuration schema reads, each with a comment', async () => {
    const { readFile } = await import('node:fs/promises');
    const { envSchema } = await import('../../schemas/config');
    const text = await readFile('.env.example', 'utf8');
    const listed = [...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1]);
    const schemaKeys = Object.keys(envSchema.shape).filter((k) => k !== 'NODE_ENV');
    expect(schemaKeys.filter((k) => !listed.includes(k))).toEqual([]);
    expect(listed.filter((k) => !schemaKeys.includes(k!))).toEqual([]);
  });
});
