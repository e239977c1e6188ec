import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwilioStandin, type TwilioStandin } from '../../test/standins/twilio';
import { ProviderError } from './errors';
import { createTwilioSms } from './twilio-sms';

let standin: TwilioStandin;
beforeAll(async () => {
  standin = await startTwilioStandin();
});
afterAll(() => standin.close());

const sms = (messagingServiceSid?: string) =>
  createTwilioSms({
    account: 'twilio-test',
    accountSid: standin.accountSid,
    authToken: standin.authToken,
    apiBaseUrl: standin.url,
    messagingServiceSid,
  });

const input = {
  messageUuid: '5b0f4a63-0d7e-4d53-9d38-2b8bd0c3f0a1',
  to: '+16175550123',
  body: 'Hi Ann, see you Tue Mar 3 at 9:30 AM. Reply C to confirm.',
  segments: 1,
  companyId: 1,
};

async function refusal(promise: Promise<unknown>): Promise<ProviderError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ProviderError);
  return err as ProviderError;
}

describe('Twilio SMS', () => {
  it('posts To, From, Body and StatusCallback to Messages.json with the account credentials', async () => {
    const result = await sms().send({
      ...input,
      from: '+16175550199',
      statusCallback: 'https://herald.example/cb/sms',
    });
    const request = standin.requests.at(-1)!;
    expect(request.method).toBe('POST');
    expect(request.path).toBe(`/2010-04-01/Accounts/${standin.accountSid}/Messages.json`);
    expect(request.auth).toEqual({ user: standin.accountSid, password: standin.authToken });
    expect(request.form).toEqual({
      To: '+16175550123',
      From: '+16175550199',
      Body: input.body,
      StatusCallback: 'https://herald.example/cb/sms',
    });
    expect(result.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(result).toMatchObject({ status: 'queued', segments: 1, from: '+16175550199' });
  });

  it('sends through a Messaging Service when the message has no sender number', async () => {
    const result = await sms('MG0123456789abcdef0123456789abcdef').send(input);
    expect(standin.requests.at(-1)!.form).toEqual({
      To: '+16175550123',
      MessagingServiceSid: 'MG0123456789abcdef0123456789abcdef',
      Body: input.body,
    });
    expect(result.status).toBe('accepted');
  });

  it('classifies refusals by HTTP status and Twilio code', async () => {
    standin.script.push({
      status: 400,
      code: 21211,
      message: "The 'To' number is not a valid phone number.",
      times: 1,
    });
    const invalid = await refusal(sms().send({ ...input, from: '+16175550199' }));
    expect(invalid).toMatchObject({
      kind: 'rejected',
      code: '21211',
      httpStatus: 400,
      optOut: false,
      maybeAccepted: false,
    });
    expect(invalid.reason).toMatch(/^21211: /);

    standin.script.push({
      status: 400,
      code: 21610,
      message: 'Attempt to send to unsubscribed recipient',
      times: 1,
    });
    expect(await refusal(sms().send({ ...input, from: '+16175550199' }))).toMatchObject({
      kind: 'rejected',
      optOut: true,
    });

    standin.script.push({ status: 429, code: 20429, times: 1 });
    expect(await refusal(sms().send({ ...input, from: '+16175550199' }))).toMatchObject({
      kind: 'throttled',
      maybeAccepted: false,
    });

    standin.script.push({ status: 500, code: 20500, times: 1 });
    expect(await refusal(sms().send({ ...input, from: '+16175550199' }))).toMatchObject({
      kind: 'unavailable',
      maybeAccepted: true,
    });

    standin.script.push({ status: 503, code: 20503, times: 1 });
    expect(await refusal(sms().send({ ...input, from: '+16175550199' }))).toMatchObject({
      kind: 'unavailable',
      maybeAccepted: false,
    });
  });

  it('reports a vendor it cannot connect to as unavailable, and safe to resend', async () => {
    const closed = createTwilioSms({
      account: 'twilio-test',
      accountSid: standin.accountSid,
      authToken: standin.authToken,
      apiBaseUrl: 'http://127.0.0.1:9',
    });
    expect(await refusal(closed.send({ ...input, from: '+16175550199' }))).toMatchObject({
      kind: 'unavailable',
      maybeAccepted: false,
      code: 'ECONNREFUSED',
    });
  });

  it('finds the sent messages by to, from, date window and text, skipping ids already recorded', async () => {
    const to = '+16175550777';
    const first = await sms().send({ ...input, to, from: '+16175550199', body: 'first' });
    const second = await sms().send({ ...input, to, from: '+16175550199', body: 'second' });
    const window = { sentAfter: new Date(Date.now() - 60_000), sentBefore: new Date(Date.now() + 60_000) };
    const found = await sms().lookup!({
      messageUuid: input.messageUuid,
      to,
      from: '+16175550199',
      body: 'first',
      ...window,
    });
    expect(found.map((f) => f.providerMessageId)).toEqual([first.providerMessageId]);
    const request = standin.requests.at(-1)!;
    expect(request.method).toBe('GET');
    expect(request.query).toMatchObject({
      To: to,
      From: '+16175550199',
      'DateSent>': window.sentAfter.toISOString().replace(/\.\d{3}Z$/, 'Z'),
      'DateSent<': window.sentBefore.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
    const again = await sms().lookup!({
      messageUuid: input.messageUuid,
      to,
      from: '+16175550199',
      body: 'second',
      excludeIds: [second.providerMessageId],
      ...window,
    });
    expect(again).toEqual([]);
    const outside = await sms().lookup!({
      messageUuid: input.messageUuid,
      to,
      body: 'first',
      sentAfter: new Date(Date.now() + 120_000),
      sentBefore: new Date(Date.now() + 180_000),
    });
    expect(outside).toEqual([]);
  });

  it('parses a status callback into an event applied once per status', () => {
    const event = sms().parseCallback!({
      MessageSid: 'SM0123',
      MessageStatus: 'undelivered',
      ErrorCode: '30003',
      To: '+16175550123',
    });
    expect(event).toMatchObject({
      providerMessageId: 'SM0123',
      eventId: 'SM0123:undelivered',
      state: 'undelivered',
      errorCode: '30003',
      optOut: false,
    });
  });
});
