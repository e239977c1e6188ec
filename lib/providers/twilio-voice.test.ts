import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTwilioStandin, type TwilioStandin } from '../../test/standins/twilio';
import { buildReminderTwiml } from '../render/voice-twiml';
import { ProviderError } from './errors';
import { createTwilioVoice } from './twilio-voice';

let standin: TwilioStandin;
beforeAll(async () => {
  standin = await startTwilioStandin();
});
afterAll(() => standin.close());

const voice = () =>
  createTwilioVoice({
    account: 'twilio-voice-test',
    accountSid: standin.accountSid,
    authToken: standin.authToken,
    apiBaseUrl: standin.url,
  });

const twiml = buildReminderTwiml({
  message: "Hola Ana. Le recordamos su cita con Dr. O'Neil & Asociados el martes.",
  confirmPrompt: 'Oprima 1 para confirmar. Oprima 2 para cancelar.',
  noInput: 'No recibimos su respuesta. Adiós.',
  language: 'es',
  gatherAction: 'https://herald.example/cb/voice/gather?m=abc',
});

describe('Twilio voice', () => {
  it('builds TwiML that says the message in the contact language and gathers one digit, twice', () => {
    expect(twiml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response>' +
        '<Gather numDigits="1" timeout="6" action="https://herald.example/cb/voice/gather?m=abc" method="POST">' +
        '<Say language="es-US">Hola Ana. Le recordamos su cita con Dr. O\'Neil &amp; Asociados el martes.</Say>' +
        '<Say language="es-US">Oprima 1 para confirmar. Oprima 2 para cancelar.</Say></Gather>' +
        '<Gather numDigits="1" timeout="6" action="https://herald.example/cb/voice/gather?m=abc" method="POST">' +
        '<Say language="es-US">Oprima 1 para confirmar. Oprima 2 para cancelar.</Say></Gather>' +
        '<Say language="es-US">No recibimos su respuesta. Adiós.</Say></Response>',
    );
    expect(buildReminderTwiml({ message: 'Hello <there>', language: 'en-gb' })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="en-GB">Hello &lt;there&gt;</Say></Response>',
    );
  });

  it('posts To, From, Twiml, the ring timeout and every status callback event to Calls.json', async () => {
    const result = await voice().send({
      messageUuid: 'a1',
      to: '+16175550123',
      from: '+16175550199',
      twiml,
      spokenText: 'Hola Ana...',
      statusCallback: 'https://herald.example/cb/voice',
      companyId: 1,
    });
    const request = standin.requests.at(-1)!;
    expect(request.path).toBe(`/2010-04-01/Accounts/${standin.accountSid}/Calls.json`);
    expect(request.auth).toEqual({ user: standin.accountSid, password: standin.authToken });
    expect(request.form).toEqual({
      To: '+16175550123',
      From: '+16175550199',
      Twiml: twiml,
      Timeout: '30',
      StatusCallback: 'https://herald.example/cb/voice',
      StatusCallbackEvent: ['initiated', 'ringing', 'answered', 'completed'],
      StatusCallbackMethod: 'POST',
    });
    expect(result.providerMessageId).toMatch(/^CA[0-9a-f]{32}$/);
    expect(result.status).toBe('queued');
  });

  it('refuses an invalid number permanently', async () => {
    const err = await voice()
      .send({ messageUuid: 'a2', to: '+1555', from: '+16175550199', twiml, spokenText: '', companyId: 1 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({ kind: 'rejected', code: '21211' });
  });

  it('finds a placed call by to, from and start time', async () => {
    const to = '+16175550888';
    const placed = await voice().send({
      messageUuid: 'a3',
      to,
      from: '+16175550199',
      twiml,
      spokenText: '',
      companyId: 1,
    });
    const found = await voice().lookup!({
      messageUuid: 'a3',
      to,
      from: '+16175550199',
      sentAfter: new Date(Date.now() - 60_000),
      sentBefore: new Date(Date.now() + 60_000),
    });
    expect(found.map((f) => f.providerMessageId)).toEqual([placed.providerMessageId]);
    expect(Object.keys(standin.requests.at(-1)!.query)).toEqual(
      expect.arrayContaining(['To', 'From', 'StartTime>', 'StartTime<']),
    );
  });

  it('parses call status and gathered digits from callbacks', () => {
    expect(
      voice().parseCallback!({
        CallSid: 'CA1',
        CallStatus: 'completed',
        CallDuration: '47',
        SequenceNumber: '3',
      }),
    ).toMatchObject({
      providerMessageId: 'CA1',
      eventId: 'CA1:completed:3',
      state: 'delivered',
      durationSeconds: 47,
    });
    expect(voice().parseCallback!({ CallSid: 'CA1', CallStatus: 'in-progress', Digits: '2' })).toMatchObject({
      eventId: 'CA1:digits:2',
      eventType: 'voice.gather',
      digits: '2',
    });
    expect(voice().parseCallback!({ CallSid: 'CA2', CallStatus: 'no-answer' }).state).toBe('undelivered');
  });
});
