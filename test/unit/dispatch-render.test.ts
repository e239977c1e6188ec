import { describe, expect, it } from 'vitest';
import type { CompanyContext, DispatchMessage, StoredTemplate } from '../../lib/messages/load';
import { prepareSends } from '../../lib/render/prepare';
import { previewMessage } from '../../lib/render/render-message';
import type { ProviderAccount } from '../../lib/providers/accounts';
import type { EmailInput, SmsInput } from '../../lib/providers/types';

const template = (t: Partial<StoredTemplate> & Pick<StoredTemplate, 'channel' | 'body'>): StoredTemplate => ({
  id: Math.floor(Math.random() * 1e9),
  scope: 'global',
  companyId: null,
  customerId: null,
  name: 'reminder',
  language: 'en',
  version: 1,
  subject: null,
  htmlBody: null,
  details: {},
  ...t,
});

function company(templates: StoredTemplate[], over: Partial<CompanyContext> = {}): CompanyContext {
  return {
    id: 7,
    alias: 'harbor',
    name: 'Harbor & Sons',
    timezone: 'America/New_York',
    phoneNumber: '+16175550100',
    emailFrom: 'reminders@harbor.example',
    emailReplyTo: null,
    details: {},
    settings: {},
    plan: { maxPerDay: null, maxPerMonth: null, maxSmsSegments: 2, maxSendsPerSecond: null },
    creditsPerUnit: 1,
    templates,
    ...over,
  };
}

const message = (
  channel: DispatchMessage['channel'],
  data: Record<string, unknown>,
  contact: Partial<DispatchMessage['contact']> = {},
): DispatchMessage =>
  previewMessage({
    id: 1,
    uuid: '11111111-2222-3333-4444-555555555555',
    companyId: 7,
    channel,
    templateName: 'reminder',
    data,
    contact: {
      id: 3,
      firstName: 'ann',
      lastName: 'lee',
      phone: '+16175550123',
      email: 'ann@example.com',
      ...contact,
    },
  });

const account = { key: 'a', channel: 'sms' } as ProviderAccount;
const prepareOne = (c: CompanyContext, m: DispatchMessage, publicBaseUrl?: string) =>
  prepareSends([m], {
    company: c,
    account,
    senders: [{ id: 1, address: '+16175550199', maxPerSecond: 1 }],
    publicBaseUrl,
  })[0]!;

describe('preparing a message for its provider', () => {
  it('replaces look-alike characters so a text stays GSM-7, and prices it per segment', () => {
    const c = company([template({ channel: 'sms', body: 'Hi {data.first_name} – it’s “{company.name}”' })]);
    const prep = prepareOne(c, message('sms', { first_name: 'ANN' }));
    expect(prep.kind).toBe('ready');
    if (prep.kind !== 'ready' || prep.send.rendered.channel !== 'sms') throw new Error('not an sms');
    expect(prep.send.rendered).toMatchObject({
      body: 'Hi Ann - it\'s "Harbor & Sons"',
      segments: 1,
      encoding: 'GSM-7',
    });
    expect(prep.send.cost).toBe(1);
    expect((prep.send.input as SmsInput).from).toBe('+16175550199');
  });

  it('keeps UCS-2 when the company turned replacement off, and fails a text over its segment limit', () => {
    const c = company([template({ channel: 'sms', body: '{data.note} ’' })], {
      settings: { sms: { replaceLookalikes: false } },
    });
    const short = prepareOne(c, message('sms', { note: 'ok' }));
    expect(
      short.kind === 'ready' && short.send.rendered.channel === 'sms' && short.send.rendered.encoding,
    ).toBe('UCS-2');
    const long = prepareOne(c, message('sms', { note: 'x'.repeat(200) }));
    expect(long).toEqual({
      kind: 'fail',
      id: 1,
      reason: expect.stringMatching(/^message needs 4 SMS segments \(UCS-2.*the limit is 2$/),
    });
  });

  it('fails a message whose template is missing or needs a field the data lacks, and skips an opted-out contact', () => {
    const c = company([
      template({ channel: 'sms', body: 'Hi {data.first_name} at {data.appointment_date|date|h:mm A}' }),
    ]);
    expect(prepareOne(c, message('sms', { first_name: 'a' }))).toMatchObject({
      kind: 'fail',
      reason: expect.stringContaining('data.appointment_date'),
    });
    expect(prepareOne(company([]), message('sms', {}))).toMatchObject({
      kind: 'fail',
      reason: 'no active sms template named "reminder"',
    });
    expect(prepareOne(c, message('sms', {}, { doNotSms: true }))).toEqual({
      kind: 'skip',
      id: 1,
      reason: 'the contact opted out of sms',
    });
    expect(prepareOne(c, message('sms', {}, { phone: null }))).toEqual({
      kind: 'skip',
      id: 1,
      reason: 'the contact has no phone number',
    });
  });

  it('escapes values in HTML, makes HTML from text when the template has none, and adds the unsubscribe headers', () => {
    const c = company([
      template({
        channel: 'email',
        subject: 'Hi {data.first_name}',
        body: 'Dear {data.first_name},\n\nSee you.\nBye',
      }),
    ]);
    const prep = prepareOne(c, message('email', { first_name: '<b>x</b>' }), 'https://herald.example');
    if (prep.kind !== 'ready') throw new Error(JSON.stringify(prep));
    const input = prep.send.input as EmailInput;
    expect(input.html).toBe('<p>Dear &lt;b&gt;x&lt;/b&gt;,</p><p>See you.<br>Bye</p>');
    expect(input.subject).toBe('Hi <b>x</b>');
    expect(input.headers).toEqual([
      {
        name: 'List-Unsubscribe',
        value:
          '<https://herald.example/unsubscribe/11111111-2222-3333-4444-555555555555>, <mailto:reminders@harbor.example?subject=unsubscribe%2011111111-2222-3333-4444-555555555555>',
      },
      { name: 'List-Unsubscribe-Post', value: 'List-Unsubscribe=One-Click' },
    ]);
    expect(input).toMatchObject({
      from: 'reminders@harbor.example',
      fromName: 'Harbor & Sons',
      to: 'ann@example.com',
    });
  });
});
