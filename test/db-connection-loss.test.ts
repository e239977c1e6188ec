// A connection that dies in the middle of a transaction (Postgres crashed or restarted, a backend
// terminated) fails that transaction with a connection error the caller can retry; the process lives on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { createSql, type Sql } from '../lib/db';
import { openTestApp } from './support/harness';

let app: App;
let sql: Sql;
const uncaught: Error[] = [];
const record = (err: Error) => uncaught.push(err);

beforeAll(async () => {
  app = await openTestApp();
  sql = createSql({ url: app.config.database.url!, actor: 'test', max: 1 });
  process.on('uncaughtException', record);
});
afterAll(async () => {
  process.off('uncaughtException', record);
  await sql?.end({ timeout: 5 });
  await app?.close();
});

describe('a connection lost during a transaction', () => {
  it('rejects the transaction, throws nothing outside it, and the client connects again', async () => {
    const failed = sql.begin(async (tx) => {
      const [self] = await tx<{ pid: number }[]>`select pg_backend_pid() as pid`;
      await app.sql`select pg_terminate_backend(${self!.pid})`;
      await tx`select 1`;
    });
    await expect(failed).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    // the library's rollback on the dead connection used to throw from a timer: an uncaught TypeError
    // that ends the process (a worker lost with every task it held)
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(uncaught).toEqual([]);
    // the one connection connects again, clean: not failed by the error its old backend sent as it died
    expect(await sql`select 1 as one`).toEqual([{ one: 1 }]);
  });
});
