// Moves a company's final, expired messages and their updates to the history tables, counts checked.
import type { Sql, TransactionSql } from '../db';

/** One message as exported: every column of its row, and its provider updates. */
export interface ArchivedMessage {
  /** UTC day of contact_at, yyyy/mm/dd: the export's folder */
  day: string;
  message: Record<string, unknown>;
  updates: Record<string, unknown>[];
}

export interface MovedCounts {
  messages: number;
  updates: number;
}

export class ArchiveCountMismatch extends Error {
  constructor(table: string, inserted: number, deleted: number, expected: number) {
    super(
      `archiving ${table}: ${inserted} rows copied to history, ${deleted} deleted, ${expected} expected; rolled back`,
    );
    this.name = 'ArchiveCountMismatch';
  }
}

/**
 * Ids of the next batch: final state, contact time and last change both before the cut-off, and the
 * appointment time a reminder step was made for passed too: until then the row is what keeps the
 * reminder run from making that step again (messages_step_once), however short the retention.
 */
export async function selectArchiveBatch(
  sql: Sql,
  input: { companyId: number; cutoff: string; limit: number },
): Promise<number[]> {
  const rows = await sql<{ id: number }[]>`
    select m.id
    from messages m
    join message_states s on s.state = m.state and s.final
    where m.company_id = ${input.companyId}
      and m.contact_at < ${input.cutoff}::timestamptz
      and m.updated_at < ${input.cutoff}::timestamptz
      and (m.appointment_at is null or m.appointment_at < ${input.cutoff}::timestamptz)
    order by m.contact_at, m.id
    limit ${input.limit}`;
  return rows.map((r) => r.id);
}

/** Live columns that history must receive, read from the catalogue so a column added later is carried too. */
async function columnsOf(tx: TransactionSql, table: string): Promise<string[]> {
  const rows = await tx<{ column_name: string }[]>`
    select column_name from information_schema.columns
    where table_schema = current_schema() and table_name = ${table} and is_generated = 'NEVER'
    order by ordinal_position`;
  return rows.map((r) => r.column_name);
}

/** Copies the rows whose `key` is one of `ids` to `<table>_history` and deletes them; both counts must be `expected`. */
async function moveToHistory(
  tx: TransactionSql,
  table: 'messages' | 'message_updates',
  key: 'id' | 'message_id',
  ids: number[],
  expected: number,
): Promise<number> {
  const columns = await columnsOf(tx, table);
  const copied = await tx`
    insert into ${tx(`${table}_history`)} (${tx(columns)})
    select ${tx(columns)} from ${tx(table)} where ${tx(key)} = any(${ids}::bigint[])`;
  const deleted = await tx`delete from ${tx(table)} where ${tx(key)} = any(${ids}::bigint[])`;
  if (copied.count !== deleted.count || copied.count !== expected) {
    throw new ArchiveCountMismatch(table, copied.count, deleted.count, expected);
  }
  return copied.count;
}

/**
 * In one transaction: locks the batch's messages (still final, still this company's), hands their rows
 * to `exportRows` (which must finish writing them elsewhere before it returns), then copies them and
 * their updates to history and deletes them. Any count that does not match rolls everything back.
 * Ids already moved by an earlier attempt are reported as `alreadyArchived` and not exported again.
 */
export async function archiveMessageBatch(
  sql: Sql,
  input: { companyId: number; messageIds: number[] },
  exportRows: (rows: ArchivedMessage[]) => Promise<void>,
): Promise<MovedCounts & { alreadyArchived: number }> {
  return (await sql.begin(async (tx) => {
    const locked = await tx<{ id: number }[]>`
      select m.id from messages m join message_states s on s.state = m.state and s.final
      where m.company_id = ${input.companyId} and m.id = any(${input.messageIds}::bigint[])
      order by m.id
      for update of m`;
    const ids = locked.map((r) => r.id);
    const [{ n: alreadyArchived } = { n: 0 }] = await tx<{ n: number }[]>`
      select count(*)::int as n from messages_history
      where company_id = ${input.companyId} and id = any(${input.messageIds}::bigint[])`;
    if (ids.length === 0) return { messages: 0, updates: 0, alreadyArchived };

    const messages = await tx<{ day: string; row: Record<string, unknown> }[]>`
      select to_char(m.contact_at at time zone 'UTC', 'YYYY/MM/DD') as day, to_jsonb(m) as row
      from messages m where m.id = any(${ids}::bigint[]) order by m.id`;
    const updates = await tx<{ message_id: number; row: Record<string, unknown> }[]>`
      select u.message_id, to_jsonb(u) as row
      from message_updates u where u.message_id = any(${ids}::bigint[]) order by u.id`;
    const byMessage = new Map<number, Record<string, unknown>[]>();
    for (const u of updates) byMessage.set(u.message_id, [...(byMessage.get(u.message_id) ?? []), u.row]);
    await exportRows(
      messages.map((m) => ({ day: m.day, message: m.row, updates: byMessage.get(m.row.id as number) ?? [] })),
    );

    // updates first: deleting a message would cascade to its updates before they were copied
    const updatesMoved = await moveToHistory(tx, 'message_updates', 'message_id', ids, updates.length);
    const messagesMoved = await moveToHistory(tx, 'messages', 'id', ids, ids.length);
    return { messages: messagesMoved, updates: updatesMoved, alreadyArchived };
  })) as MovedCounts & { alreadyArchived: number };
}
