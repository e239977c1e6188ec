// Postgres access through porsager/postgres: one pool per process, the audit actor bound to every session.
import postgres from 'postgres';

export type Sql = postgres.Sql<Record<string, never>>;
export type TransactionSql = postgres.TransactionSql<Record<string, never>>;

export interface DbOptions {
  url: string;
  /** written by the audit trigger as the actor of every change made through this pool */
  actor: string;
  max?: number;
  applicationName?: string;
}

export function createSql(opts: DbOptions): Sql {
  return postgres(opts.url, {
    max: opts.max ?? 10,
    onnotice: () => {},
    // jsonb values come back parsed; bigint ids as JS numbers (they stay far below 2^53)
    types: {
      int8: { to: 20, from: [20], serialize: (x: number) => String(x), parse: (x: string) => Number(x) },
    },
    transform: { undefined: null },
    connection: { application_name: opts.applicationName ?? 'herald', 'herald.actor': opts.actor },
  }) as unknown as Sql;
}

/** Runs `fn` in one transaction whose audit rows name `actor` (an operator running a CLI command). */
export async function withActor<T>(
  sql: Sql,
  actor: string,
  fn: (tx: TransactionSql) => Promise<T>,
): Promise<T> {
  return (await sql.begin(async (tx) => {
    await tx`select set_config('herald.actor', ${actor}, true)`;
    return fn(tx as TransactionSql);
  })) as T;
}
