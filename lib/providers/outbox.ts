// The local outbox: the embedded default provider for every channel, keeping each rendered message in Postgres.
import type { Sql } from '../db';
import type {
  Channel,
  EmailInput,
  EmailProvider,
  LookupQuery,
  SendResult,
  SmsInput,
  SmsProvider,
  VoiceInput,
  VoiceProvider,
} from './types';
import { ProviderError } from './errors';

interface OutboxRow {
  message_uuid: string;
  company_id: number;
  account_key: string;
  channel: Channel;
  to_address: string;
  from_address: string | null;
  subject: string | null;
  body: string;
  html_body: string | null;
  twiml: string | null;
  headers: { name: string; value: string }[];
  segments: number | null;
}

/** Outbox ids look like a vendor's (OB + 32 hex) so operators can tell them apart at a glance. */
const outboxId = (uuid: string) => `OB${uuid.replace(/-/g, '')}`;

function createOutbox(sql: Sql, account: string) {
  return {
    /** A message stored twice is one row: the outbox is idempotent on our message uuid. */
    async store(row: OutboxRow): Promise<SendResult> {
      try {
        const [stored] = await sql<{ uuid: string }[]>`
          insert into outbox_messages ${sql({ ...row, headers: sql.json(row.headers) } as never)}
          on conflict (message_uuid) do update set message_uuid = excluded.message_uuid
          returning uuid`;
        return {
          providerMessageId: outboxId(stored!.uuid),
          status: 'stored',
          from: row.from_address ?? undefined,
        };
      } catch (err) {
        // the insert either committed or not; lookup tells which
        throw new ProviderError(`the outbox could not store the message: ${(err as Error).message}`, {
          kind: 'unavailable',
          maybeAccepted: true,
          cause: err,
        });
      }
    },

    /** The outbox keeps our message uuid: a lookup finds exactly that message, or nothing. */
    async lookup(query: LookupQuery): Promise<SendResult[]> {
      const rows = await sql<{ uuid: string; from_address: string | null }[]>`
        select uuid, from_address from outbox_messages
        where message_uuid = ${query.messageUuid} and account_key = ${account}`;
      return rows.map((row) => ({
        providerMessageId: outboxId(row.uuid),
        status: 'stored',
        from: row.from_address ?? undefined,
      }));
    },
  };
}

export function createOutboxSms(sql: Sql, account: string): SmsProvider {
  const outbox = createOutbox(sql, account);
  return {
    kind: 'outbox',
    channel: 'sms',
    account,
    send: (input: SmsInput) =>
      outbox.store({
        message_uuid: input.messageUuid,
        company_id: input.companyId,
        account_key: account,
        channel: 'sms',
        to_address: input.to,
        from_address: input.from ?? null,
        subject: null,
        body: input.body,
        html_body: null,
        twiml: null,
        headers: [],
        segments: input.segments,
      }),
    lookupBy: 'own-id',
    lookup: outbox.lookup,
  };
}

export function createOutboxVoice(sql: Sql, account: string): VoiceProvider {
  const outbox = createOutbox(sql, account);
  return {
    kind: 'outbox',
    channel: 'voice',
    account,
    send: (input: VoiceInput) =>
      outbox.store({
        message_uuid: input.messageUuid,
        company_id: input.companyId,
        account_key: account,
        channel: 'voice',
        to_address: input.to,
        from_address: input.from ?? null,
        subject: null,
        body: input.spokenText,
        html_body: null,
        twiml: input.twiml,
        headers: [],
        segments: null,
      }),
    lookupBy: 'own-id',
    lookup: outbox.lookup,
  };
}

export function createOutboxEmail(sql: Sql, account: string): EmailProvider {
  const outbox = createOutbox(sql, account);
  return {
    kind: 'outbox',
    channel: 'email',
    account,
    send: (input: EmailInput) =>
      outbox.store({
        message_uuid: input.messageUuid,
        company_id: input.companyId,
        account_key: account,
        channel: 'email',
        to_address: input.to,
        from_address: input.fromName ? `${input.fromName} <${input.from}>` : input.from,
        subject: input.subject,
        body: input.text,
        html_body: input.html,
        twiml: null,
        headers: input.headers,
        segments: null,
      }),
    lookupBy: 'own-id',
    lookup: outbox.lookup,
  };
}

/** Reads the outbox for `npm start` and `herald outbox`: newest first. */
export async function listOutbox(
  sql: Sql,
  opts: { companyId?: number; limit: number },
): Promise<(OutboxRow & { id: number; created_at: Date })[]> {
  return sql<(OutboxRow & { id: number; created_at: Date })[]>`
    select id, message_uuid, company_id, account_key, channel, to_address, from_address, subject, body,
           html_body, twiml, headers, segments, created_at
    from outbox_messages
    where ${opts.companyId === undefined ? sql`true` : sql`company_id = ${opts.companyId}`}
    order by id desc limit ${opts.limit}`;
}
