// The real errors of a failed ingest and a failed send, pushed through herald's logger: none of the
// row's values may come out, nor reach the packet's error, its packet.failed webhook or Temporal.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { copyInto } from '../lib/ingest/copy';
import { mergePacketRows } from '../lib/ingest/merge';
import { loadPacketContext } from '../lib/ingest/packet-context';
import { STAGING_COLUMNS } from '../lib/ingest/staged-row';
import { createLogger } from '../lib/log';
import { addEndpoint } from '../lib/webhooks/endpoints';
import { startTwilioStandin } from './standins/twilio';
import { twilioSmsProvider } from './support/dispatch';
import type { TestWorker } from './support/harness';
import { csv, daysFromNow, EHR_HEADER, ingestFile, putPacket, type TestCompany } from './support/ingest';
import { useIngestEnv } from './support/ingest-env';

let app: App;
let worker: TestWorker;
let company: TestCompany;
useIngestEnv('logs', (env) => ({ app, worker, company } = env));

// one person's row, and every form of its values that must never be written
const PERSON = {
  first: 'Zenobia',
  last: 'Quarterfield',
  phone: '+16175550142',
  email: 'zenobia.q@example.com',
};
const FORBIDDEN = [PERSON.first, PERSON.last, '5550142', '555-0142', PERSON.email, 'zenobia.q'];

function expectNoRowValues(text: string, where: string): void {
  for (const value of FORBIDDEN) expect(text.includes(value), `${where} holds ${value}`).toBe(false);
}

function capturedLogger() {
  const lines: string[] = [];
  const destination = new Writable({ write: (c, _e, done) => (lines.push(c.toString()), done()) });
  return { log: createLogger({ level: 'info', destination }), text: () => lines.join('') };
}

/** The person's staging row (COPY text format) with the phone and appointment time given. */
function stagingLine(packetId: number, r: { phone: string; startsAt: string | null }): string {
  const values: Record<string, string | number | null> = {
    packet_id: packetId,
    row_number: 2,
    contact_key: PERSON.last.toLowerCase(),
    first_name: PERSON.first,
    last_name: PERSON.last,
    phone_e164: r.phone,
    email: PERSON.email,
    starts_at: r.startsAt,
    data: '{}',
  };
  return (
    STAGING_COLUMNS.map((c) =>
      values[c] === undefined || values[c] === null ? '\\N' : String(values[c]),
    ).join('\t') + '\n'
  );
}

/** The error a promise fails with; it must fail. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  if (!error) throw new Error('expected a failure');
  return error;
}

describe('what a failed ingest and a failed send leave in logs, errors and webhooks', () => {
  it('holds none of the row values, and still names the error, its code, table and column', async () => {
    const { log, text } = capturedLogger();
    const { packet } = await putPacket(app, company, 'merge.csv', `logs ${Date.now()}`);

    // staging: COPY refuses a value (its message and context quote it)
    const line = stagingLine(packet.id, { phone: PERSON.phone, startsAt: `${PERSON.first} ${PERSON.phone}` });
    const copyError = await failure(copyInto(app.sql, 'packet_rows', STAGING_COLUMNS, [line]));
    expect(String((copyError as { where?: string }).where)).toContain(PERSON.first);

    // merge: a staged phone the contacts table refuses (its detail is the failing row)
    const staged = stagingLine(packet.id, { phone: `617 555 0142 ${PERSON.first}`, startsAt: null });
    await copyInto(app.sql, 'packet_rows', STAGING_COLUMNS, [staged]);
    await app.sql`update data_packets set rows_staged = 1 where id = ${packet.id}`;
    const mergeError = await failure(mergePacketRows(app.sql, await loadPacketContext(app.sql, packet.uuid)));
    expect(String((mergeError as { detail?: string }).detail)).toContain(PERSON.first);
    await app.sql`delete from packet_rows where packet_id = ${packet.id}`;

    // a whole ingest that fails on the person's row, through Temporal, with a packet.failed webhook
    process.env.HERALD_SECRET_WEBHOOK_LOGS = 'shh';
    await addEndpoint(app.sql, 'test', {
      companyAlias: company.alias,
      url: 'https://hooks.example.com/herald',
      secretEnv: 'HERALD_SECRET_WEBHOOK_LOGS',
      events: ['packet.failed'],
    });
    const row = [
      'P1',
      PERSON.first,
      `"${PERSON.last}`,
      PERSON.phone,
      '',
      PERSON.email,
      daysFromNow(5),
      '10:00',
    ];
    const file = csv(EHR_HEADER, []) + row.join(',') + '\r\n';
    const ingest = await ingestFile(app, worker.taskQueue, company, 'broken.csv', file);
    expect(ingest.summary.stage).toBe('failed');
    expect(ingest.failure).toBeDefined();
    const [delivery] = await app.sql<{ payload: unknown }[]>`
      select payload from webhook_deliveries where company_id = ${company.id} and event = 'packet.failed'`;
    expect(delivery).toBeDefined();

    // a send the vendor refuses, quoting the number
    const twilio = await startTwilioStandin();
    twilio.script.push({
      status: 400,
      code: 21211,
      message: `The 'To' number ${PERSON.phone} is not a valid phone number.`,
      times: 1,
    });
    const sendError = await failure(
      twilioSmsProvider('twilio-logs', twilio).send({
        messageUuid: '5b0f4a63-0d7e-4d53-9d38-2b8bd0c3f0a1',
        to: PERSON.phone,
        from: '+16175550199',
        body: `Hi ${PERSON.first}, see you Tuesday`,
        segments: 1,
        companyId: company.id,
      }),
    );
    await twilio.close();
    expect(sendError.message).toContain(PERSON.phone);

    for (const err of [copyError, mergeError, ingest.failure!, sendError]) {
      log.error({ err }, 'failed');
      log.error(err, 'failed');
      log.warn(
        { attempt: { context: { error: err, to_address: PERSON.email, address: PERSON.email } } },
        'failed',
      );
    }
    const written = text();
    expectNoRowValues(written, 'the log');
    expectNoRowValues(ingest.summary.error ?? '', "the packet's error");
    expectNoRowValues(JSON.stringify(delivery!.payload), 'the packet.failed webhook');
    expectNoRowValues(JSON.stringify(ingest.failure), 'the Temporal failure');
    expectNoRowValues(ingest.failure!.cause?.message ?? '', 'the Temporal failure');
    // what an operator needs is still there
    expect(written).toContain('"type":"DatabaseError"');
    expect(written).toContain('"code":"22007"');
    expect(written).toContain('"constraint":"contacts_phone_e164_check"');
    expect(written).toContain('"table":"contacts"');
    expect(written).toContain('"type":"ProviderError"');
    expect(written).toContain('"code":"21211"');
    expect(written).toContain('"type":"WorkflowFailedError"');
    expect(ingest.summary.error).toMatch(
      /^broken\.csv: row 2, column "Last Name": a quoted value is never closed/,
    );
  });
});
