import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSesStandin, type SesStandin } from '../../test/standins/ses';
import { ProviderError } from './errors';
import { createSesEmail, formatAddress } from './ses-email';

let ses: SesStandin;
beforeAll(async () => {
  ses = await startSesStandin();
});
afterAll(() => ses.close());

const provider = () =>
  createSesEmail({
    account: 'ses-test',
    region: 'us-east-1',
    endpoint: ses.url,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    configurationSet: 'herald-events',
  });

const email = {
  messageUuid: '9d1c9e0e-3a55-4c59-9d3b-5d7a1c0b2f11',
  to: 'ann@example.com',
  from: 'reminders@lakeside-clinic.example',
  fromName: 'Lakeside Family Clinic',
  replyTo: 'frontdesk@lakeside-clinic.example',
  subject: 'Reminder: your appointment on Mar 3 at 9:30 AM',
  html: '<p>Hi Ann,</p><p>See you on <strong>Tuesday</strong>.</p>',
  text: 'Hi Ann,\n\nSee you on Tuesday.',
  headers: [
    {
      name: 'List-Unsubscribe',
      value:
        '<https://herald.example/unsubscribe/9d1c9e0e>, <mailto:frontdesk@lakeside-clinic.example?subject=unsubscribe>',
    },
    { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
  ],
  tags: { message: '9d1c9e0e-3a55-4c59-9d3b-5d7a1c0b2f11', company: 'demo-clinic' },
  companyId: 1,
};

describe('SES v2 email', () => {
  it('sends SendEmail with both parts, from, reply-to, unsubscribe headers, tags and the configuration set', async () => {
    const result = await provider().send(email);
    const request = ses.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe('/v2/email/outbound-emails');
    expect(request.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=local\//);
    expect(request.body).toEqual({
      FromEmailAddress: '"Lakeside Family Clinic" <reminders@lakeside-clinic.example>',
      Destination: { ToAddresses: ['ann@example.com'] },
      ReplyToAddresses: ['frontdesk@lakeside-clinic.example'],
      Content: {
        Simple: {
          Subject: { Data: email.subject, Charset: 'UTF-8' },
          Body: {
            Html: { Data: email.html, Charset: 'UTF-8' },
            Text: { Data: email.text, Charset: 'UTF-8' },
          },
          Headers: [
            { Name: 'List-Unsubscribe', Value: email.headers[0]!.value },
            { Name: 'List-Unsubscribe-Post', Value: 'List-Unsubscribe=One-Click' },
          ],
        },
      },
      ConfigurationSetName: 'herald-events',
      EmailTags: [
        { Name: 'message', Value: email.messageUuid },
        { Name: 'company', Value: 'demo-clinic' },
      ],
    });
    const stored = (await ses.emails()).find((e) => e.messageId === result.providerMessageId);
    expect(stored).toMatchObject({
      from: '"Lakeside Family Clinic" <reminders@lakeside-clinic.example>',
      replyTo: ['frontdesk@lakeside-clinic.example'],
      destination: { to: ['ann@example.com'] },
      subject: email.subject,
      body: { html: email.html, text: email.text },
      headers: [
        { name: 'List-Unsubscribe', value: email.headers[0]!.value },
        { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
      ],
    });
  });

  it('encodes a display name outside ASCII', () => {
    expect(formatAddress('a@b.example', 'Clínica Sôl')).toBe(
      '=?UTF-8?B?Q2zDrW5pY2EgU8O0bA==?= <a@b.example>',
    );
    expect(formatAddress('a@b.example', 'Dr "Bob"')).toBe('"Dr \\"Bob\\"" <a@b.example>');
  });

  it('classifies SES refusals by status and error type', async () => {
    ses.script.push({ status: 400, type: 'MessageRejected', times: 1 });
    const rejected = await provider()
      .send(email)
      .catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(ProviderError);
    expect(rejected).toMatchObject({ kind: 'rejected', code: 'MessageRejected', httpStatus: 400 });

    ses.script.push({ status: 429, type: 'TooManyRequestsException', times: 1 });
    expect(
      await provider()
        .send(email)
        .catch((e: unknown) => e),
    ).toMatchObject({ kind: 'throttled' });

    ses.script.push({ status: 500, type: 'InternalFailure', times: 1 });
    expect(
      await provider()
        .send(email)
        .catch((e: unknown) => e),
    ).toMatchObject({ kind: 'unavailable', maybeAccepted: true });

    ses.script.push({ status: 400, type: 'SendingPausedException', times: 1 });
    expect(
      await provider()
        .send(email)
        .catch((e: unknown) => e),
    ).toMatchObject({ kind: 'unavailable', maybeAccepted: false });
  });

  it('has no lookup: SES cannot say whether it took a message', () => {
    expect(provider().lookup).toBeUndefined();
  });
});
