// Messages, contacts and appointments name their company, packet, region (and more): checked once per statement, not by per-row foreign keys.
import { describe, expect, it } from 'vitest';
import type { Sql } from '../lib/db';
import { setUpDatabase } from '../lib/setup-database';
import { withScratchDatabase } from './support/scratch-db';

interface Parents {
  companyId: number;
  contactId: number;
  packetId: number;
  region: string;
}

/** A company with one contact, a packet, and a region nothing but messages will name. */
async function parents(sql: Sql): Promise<Parents> {
  await setUpDatabase(sql);
  const [company] = await sql<{ id: number }[]>`
    insert into companies (alias, name, timezone) values ('refs', 'Refs', 'America/Chicago') returning id`;
  const [contact] = await sql<{ id: number }[]>`
    insert into contacts (company_id, dedupe_key, first_name, last_name, region)
    values (${company!.id}, 'k1', 'Ann', 'Lee', 'unassigned') returning id`;
  const [packet] = await sql<{ id: number }[]>`
    insert into data_packets (company_id, dedupe_key, object_key) values (${company!.id}, 'refs:1', 'raw/refs/1.csv')
    returning id`;
  await sql`insert into regions (code, name, task_queue) values ('refs_only', 'Refs only', 'region-refs-only')`;
  return { companyId: company!.id, contactId: contact!.id, packetId: packet!.id, region: 'refs_only' };
}

const message = (sql: Sql, p: Parents, changes: Record<string, unknown> = {}) => sql`
  insert into messages ${sql({
    company_id: p.companyId,
    contact_id: p.contactId,
    packet_id: p.packetId,
    channel: 'sms',
    template_name: 'appointment_reminder',
    contact_at: new Date(Date.now() + 86_400_000),
    region: p.region,
    ...changes,
  } as never)} returning id`;

describe('message references', () => {
  it('refuse a new message whose packet, region, state or company does not exist, naming the key', () =>
    withScratchDatabase(async (sql) => {
      const p = await parents(sql);
      await expect(message(sql, p, { packet_id: p.packetId + 1000 })).rejects.toMatchObject({
        code: '23503',
        message: expect.stringMatching(/messages_packet_id_fkey/),
        detail: `Key (packet_id)=(${p.packetId + 1000}) is not present in table "data_packets".`,
      });
      await expect(message(sql, p, { region: 'atlantis' })).rejects.toMatchObject({
        code: '23503',
        detail: 'Key (region)=(atlantis) is not present in table "regions".',
      });
      await expect(message(sql, p, { state: 'teleported' })).rejects.toMatchObject({
        code: '23503',
        detail: 'Key (state)=(teleported) is not present in table "message_states".',
      });
      await expect(message(sql, p, { company_id: 424242 })).rejects.toMatchObject({
        code: '23503',
        detail: 'Key (company_id)=(424242) is not present in table "companies".',
      });
      await expect(message(sql, p, { customer_id: 424242 })).rejects.toMatchObject({ code: '23503' });
      await expect(message(sql, p, { location_id: 424242 })).rejects.toMatchObject({ code: '23503' });
      const [left] = await sql<{ n: number }[]>`select count(*)::int as n from messages`;
      expect(left!.n).toBe(0);
    }));

  it('check every row of a many-row insert, and accept one whose keys all exist', () =>
    withScratchDatabase(async (sql) => {
      const p = await parents(sql);
      const many = (region: string) => sql`
        insert into messages (company_id, contact_id, packet_id, channel, template_name, contact_at, region)
        select ${p.companyId}, ${p.contactId}, ${p.packetId}, 'sms', 'appointment_reminder', now() + make_interval(mins => i),
               case when i = 500 then ${region} else ${p.region} end
        from generate_series(1, 1000) i`;
      await expect(many('atlantis')).rejects.toMatchObject({ code: '23503' });
      expect((await many(p.region)).count).toBe(1000);
    }));

  it('refuse an update that moves a message to a region that does not exist', () =>
    withScratchDatabase(async (sql) => {
      const p = await parents(sql);
      const [m] = await message(sql, p);
      await expect(sql`update messages set region = 'atlantis' where id = ${m!.id}`).rejects.toMatchObject({
        code: '23503',
      });
      await sql`update messages set region = 'unassigned' where id = ${m!.id}`;
    }));

  it('keep a packet or region that messages still name from being deleted or re-keyed', () =>
    withScratchDatabase(async (sql) => {
      const p = await parents(sql);
      await message(sql, p);
      await expect(sql`delete from regions where code = ${p.region}`).rejects.toMatchObject({
        code: '23503',
        message: expect.stringMatching(/"regions" violates foreign key constraint "messages_region_fkey"/),
      });
      await expect(sql`update regions set code = 'moved' where code = ${p.region}`).rejects.toMatchObject({
        code: '23503',
      });
      await expect(sql`delete from data_packets where id = ${p.packetId}`).rejects.toMatchObject({
        code: '23503',
        detail: `Key (id)=(${p.packetId}) is still referenced from table "messages".`,
      });
      // the region's other columns may change; once its messages are gone, so may it
      await sql`update regions set name = 'Renamed' where code = ${p.region}`;
      await sql`delete from messages`;
      await sql`delete from regions where code = ${p.region}`;
      await sql`delete from data_packets where id = ${p.packetId}`;
    }));
});

describe('contact and appointment references', () => {
  it('refuse a contact or appointment whose packet, region or company does not exist, inserted or updated', () =>
    withScratchDatabase(async (sql) => {
      const p = await parents(sql);
      await expect(
        sql`insert into contacts (company_id, dedupe_key, first_name, last_name, region, first_packet_id)
            values (${p.companyId}, 'k2', 'Bo', 'Ng', 'atlantis', ${p.packetId})`,
      ).rejects.toMatchObject({
        code: '23503',
        message: expect.stringMatching(/"contacts" violates foreign key constraint "contacts_region_fkey"/),
        detail: 'Key (region)=(atlantis) is not present in table "regions".',
      });
      await expect(
        sql`update contacts set last_packet_id = ${p.packetId + 1000} where id = ${p.contactId}`,
      ).rejects.toMatchObject({
        code: '23503',
        message: expect.stringMatching(/contacts_last_packet_id_fkey/),
      });
      const appointment = (companyId: number, packetId: number) => sql`
        insert into appointments (company_id, contact_id, dedupe_key, starts_at, first_packet_id, last_packet_id)
        values (${companyId}, ${p.contactId}, 'a1', now() + interval '3 days', ${packetId}, ${packetId})
        on conflict (company_id, dedupe_key) do update set last_packet_id = excluded.last_packet_id`;
      await expect(appointment(p.companyId + 1000, p.packetId)).rejects.toMatchObject({
        code: '23503',
        message: expect.stringMatching(/appointments_company_id_fkey/),
      });
      await appointment(p.companyId, p.packetId);
      // the upsert's update path is checked too
      await expect(appointment(p.companyId, p.packetId + 1000)).rejects.toMatchObject({
        code: '23503',
        detail: `Key (last_packet_id)=(${p.packetId + 1000}) is not present in table "data_packets".`,
      });
    }));

  it('keep a packet or region that contacts or appointments still name from being deleted', () =>
    withScratchDatabase(async (sql) => {
      const p = await parents(sql);
      await sql`update contacts set region = ${p.region}, last_packet_id = ${p.packetId} where id = ${p.contactId}`;
      await expect(sql`delete from regions where code = ${p.region}`).rejects.toMatchObject({
        code: '23503',
        message: expect.stringMatching(/"regions" violates foreign key constraint "contacts_region_fkey"/),
      });
      await expect(sql`delete from data_packets where id = ${p.packetId}`).rejects.toMatchObject({
        code: '23503',
        detail: `Key (id)=(${p.packetId}) is still referenced from table "contacts".`,
      });
      await sql`update contacts set region = 'unassigned', last_packet_id = null where id = ${p.contactId}`;
      await sql`delete from regions where code = ${p.region}`;
      await sql`delete from data_packets where id = ${p.packetId}`;
    }));
});
