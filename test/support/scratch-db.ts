// A throwaway database on the test server, for tests that must start from an empty schema.
import { randomUUID } from 'node:crypto';
import { createSql, type Sql } from '../../lib/db';

export async function withScratchDatabase<T>(
  fn: (sql: Sql, url: string) => Promise<T>,
  actor = 'test',
): Promise<T> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) throw new Error('DATABASE_URL is not set: run through the vitest global set-up');
  const name = `scratch_${randomUUID().replace(/-/g, '')}`;
  const admin = createSql({ url: adminUrl, actor, max: 1 });
  await admin`create database ${admin(name)}`;
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const sql = createSql({ url: url.toString(), actor });
  try {
    return await fn(sql, url.toString());
  } finally {
    await sql.end();
    await admin`drop database if exists ${admin(name)} with (force)`;
    await admin.end();
  }
}
