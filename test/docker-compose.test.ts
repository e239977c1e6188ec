import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import yaml from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSql, type Sql } from '../lib/db';
import { PROJECT_ROOT } from '../lib/config';
import { SEARCH_ATTRIBUTES, TASK_QUEUES } from '../lib/names';
import { envSchema } from '../schemas/config';

// CI has no Docker engine: the file is checked against the Compose specification's own JSON Schema
// (vendored in test/compose-spec/) and against what herald needs from it.
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  profiles?: string[];
  restart?: string;
  volumes?: string[];
}
let compose: { services: Record<string, Service>; volumes: Record<string, unknown> };
let sql: Sql;

beforeAll(async () => {
  compose = yaml.load(
    await readFile(path.join(PROJECT_ROOT, 'docker-compose.yml'), 'utf8'),
  ) as typeof compose;
  sql = createSql({ url: process.env.DATABASE_URL!, actor: 'test' });
});
afterAll(async () => {
  await sql?.end();
});

const heraldServices = () => Object.entries(compose.services).filter(([, s]) => s.image === 'herald:local');

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification schema', async () => {
    const schema = JSON.parse(
      await readFile(path.join(PROJECT_ROOT, 'test/compose-spec/compose-spec.json'), 'utf8'),
    );
    // the schema names draft-07 by a URL ajv knows under another spelling; ajv speaks draft-07 natively
    delete schema.$schema;
    const ajv = new Ajv({ allErrors: true, strict: false });
    addFormats.default(ajv);
    const validate = ajv.compile(schema);
    const valid = validate(compose);
    expect(validate.errors ?? [], JSON.stringify(validate.errors, null, 2)).toEqual([]);
    expect(valid).toBe(true);
  });

  it('runs Postgres, Temporal on it with its UI, MinIO with the bucket, SFTP, and herald', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining([
        'postgres',
        'temporal',
        'temporal-setup',
        'temporal-ui',
        'minio',
        'minio-init',
        'sftp',
        'herald-migrate',
        'worker-pipeline',
        'ingress',
      ]),
    );
    const temporal = compose.services.temporal!;
    expect(temporal.image).toMatch(/^temporalio\/auto-setup:/);
    expect(temporal.environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'postgres' });
    expect(compose.services['temporal-ui']!.environment!.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(compose.services['minio-init']!.entrypoint!.join(' ')).toContain(
      'mc mb --ignore-existing "local/$$S3_BUCKET"',
    );
    expect(compose.services['minio-init']!.environment!.S3_BUCKET).toBe(
      compose.services['worker-pipeline']!.environment!.S3_BUCKET,
    );
    expect(compose.services.sftp!.image).toMatch(/^atmoz\/sftp/);
  });

  it('registers every search attribute herald uses, as Keyword, and creates the namespace with archival on', async () => {
    const setup = compose.services['temporal-setup']!;
    const script = await readFile(path.join(PROJECT_ROOT, 'deploy/temporal/setup.sh'), 'utf8');
    expect(setup.volumes).toContain('./deploy/temporal/setup.sh:/setup.sh:ro');
    const loop = /for name in ([A-Za-z ]+); do/.exec(script)![1]!.split(' ');
    expect(loop.sort()).toEqual(Object.values(SEARCH_ATTRIBUTES).sort());
    expect(script).toContain('temporal operator search-attribute create');
    expect(script).toContain('--type Keyword');
    expect(script).toMatch(
      /--history-archival-state enabled --history-uri "file:\/\/\/etc\/temporal\/archival\/history"/,
    );
    expect(script).toMatch(
      /--visibility-archival-state enabled --visibility-uri "file:\/\/\/etc\/temporal\/archival\/visibility"/,
    );
    expect(compose.services.temporal!.volumes).toContain('temporal_archival:/etc/temporal/archival');
    const dynamic = yaml.load(
      await readFile(path.join(PROJECT_ROOT, 'deploy/temporal/dynamicconfig.yaml'), 'utf8'),
    ) as Record<string, unknown>;
    expect(Object.keys(dynamic)).toEqual(
      expect.arrayContaining(['history.archivalProcessorArchiveDelay', 'limit.maxIDLength']),
    );
    expect(compose.services.temporal!.environment!.DYNAMIC_CONFIG_FILE_PATH).toBe(
      'config/dynamicconfig/herald.yaml',
    );
  });

  it('waits only on healthchecks that exist and on one-shot set-up services', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        const target = compose.services[dependency];
        expect(target, `${name} depends on ${dependency}`).toBeDefined();
        if (condition === 'service_healthy')
          expect(target!.healthcheck, `${dependency} has a healthcheck`).toBeDefined();
        if (condition === 'service_completed_successfully')
          expect(target!.restart, `${dependency} runs once`).toBe('no');
      }
    }
    expect(compose.services.postgres!.healthcheck!.test.join(' ')).toContain('pg_isready');
  });

  it('gives herald only variables its configuration knows, pointing at the services of the stack', () => {
    const known = new Set(Object.keys(envSchema.shape));
    for (const [name, service] of heraldServices()) {
      const env = service.environment ?? {};
      expect(
        Object.keys(env).filter((k) => !known.has(k)),
        `${name}'s environment`,
      ).toEqual([]);
      expect(env.DATABASE_URL).toMatch(/@postgres:5432\/herald$/);
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(env.S3_ENDPOINT).toBe('http://minio:9000');
      expect(service.depends_on ?? {}, name).toHaveProperty(
        name === 'herald-migrate' ? 'postgres' : 'herald-migrate',
      );
      // the entry point each service runs is in the repository
      const script = service.command?.find((part) => /\.(ts|js)$/.test(part));
      if (script) expect(existsSync(path.join(PROJECT_ROOT, script)), `${name} runs ${script}`).toBe(true);
    }
    expect(compose.services['worker-pipeline']!.environment!.WORKER_TASK_QUEUES).toBe(TASK_QUEUES.pipeline);
    expect(compose.services.ingress!.healthcheck!.test.join(' ')).toContain('/healthz');
    expect(existsSync(path.join(PROJECT_ROOT, 'Dockerfile'))).toBe(true);
  });

  it("has one dispatch worker for every active region's task queue", async () => {
    const regions = await sql<
      { code: string; task_queue: string }[]
    >`select code, task_queue from regions where active order by code`;
    expect(regions.length).toBeGreaterThan(0);
    const hosted = heraldServices().flatMap(([, s]) =>
      (s.environment?.WORKER_TASK_QUEUES ?? '').split(',').filter(Boolean),
    );
    expect(regions.map((r) => r.task_queue).filter((q) => !hosted.includes(q))).toEqual([]);
  });
});
