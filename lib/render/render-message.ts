// Renders one message for its channel: SMS text with segments, a call's TwiML, an email's subject and parts.
import { normalizeForGsm, type GsmReplacement } from '../sms/lookalikes';
import { analyzeSms, checkSegmentLimit, type SmsEncoding } from '../sms/segments';
import {
  compileTemplate,
  escapeHtml,
  renderWithReport,
  resolveTemplate,
  TemplateError,
  type CompiledTemplate,
  type RenderOptions,
  type TemplateContext,
} from '../template';
import { OWN_ID_PARAM } from '../names';
import type { Channel } from '../providers/types';
import type { CompanyContext, DispatchMessage, StoredTemplate } from '../messages/load';
import { buildReminderTwiml } from './voice-twiml';

export type RenderedMessage =
  | { channel: 'sms'; body: string; segments: number; encoding: SmsEncoding; replaced: GsmReplacement[] }
  | { channel: 'voice'; spokenText: string; twiml: string }
  | { channel: 'email'; subject: string; html: string; text: string };

/** A message that cannot be rendered as it stands (no template, a missing field, too long): it fails. */
export class RenderProblem extends Error {
  override readonly name = 'RenderProblem';
}

export interface RenderSettings {
  /** sending renders strictly (a missing field fails the message); previews show the gaps instead */
  strict: boolean;
  /** where Twilio posts a pressed digit; unset when herald has no public address */
  gatherAction?: string;
}

export interface RenderInput {
  template: StoredTemplate;
  context: TemplateContext;
  timezone: string;
  language: string;
  maxSmsSegments: number;
  replaceLookalikes: boolean;
  /** our message uuid: a call's gather action carries it back, so a pressed key finds its message by it */
  ownId?: string;
}

/** What a message that is not stored (a template preview, a test) is made of; the rest is a new message's. */
export interface UnstoredMessage {
  companyId: number;
  channel: Channel;
  templateName: string;
  data: Record<string, unknown>;
  /** 0 unless given */
  id?: number;
  /** all zeros unless given */
  uuid?: string;
  /** unset fields: no id, name, phone or email, English, no time zone, no opt-outs */
  contact?: Partial<DispatchMessage['contact']>;
}

/** A message as dispatch loads it, built for rendering one that is not stored: scheduled, never sent, no customer or location. */
export function previewMessage(m: UnstoredMessage): DispatchMessage {
  return {
    id: m.id ?? 0,
    uuid: m.uuid ?? '00000000-0000-0000-0000-000000000000',
    companyId: m.companyId,
    channel: m.channel,
    templateName: m.templateName,
    data: m.data,
    state: 'scheduled',
    dispatchToken: null,
    sendingAt: null,
    attempts: 0,
    credits: null,
    toAddress: null,
    fromAddress: null,
    customerId: null,
    contact: {
      id: 0,
      firstName: null,
      lastName: null,
      phone: null,
      email: null,
      language: 'en',
      timezone: null,
      doNotSms: false,
      doNotCall: false,
      doNotEmail: false,
      ...m.contact,
    },
    customer: null,
    location: null,
  };
}

/** The fields each root offers besides data (validation checks templates against them). */
export const TEMPLATE_ROOT_FIELDS: Readonly<Record<string, readonly string[]>> = {
  company: ['name', 'alias', 'phone_number', 'address_1', 'address_2', 'city', 'state', 'zip'],
  customer: ['name'],
  location: ['name', 'phone_number', 'city'],
  contact: ['first_name', 'last_name', 'language'],
  message: ['uuid'],
};

/** What a template may read: the roots the template language names, built from the message's rows. */
export function templateContext(company: CompanyContext, message: DispatchMessage): TemplateContext {
  return {
    data: message.data,
    company: {
      name: company.name,
      alias: company.alias,
      phone_number: company.phoneNumber,
      ...company.details,
    },
    customer: message.customer ? { name: message.customer.name } : {},
    location: message.location
      ? {
          name: message.location.name,
          phone_number: message.location.phoneNumber,
          city: message.location.city,
        }
      : {},
    contact: {
      first_name: message.contact.firstName,
      last_name: message.contact.lastName,
      language: message.contact.language,
    },
    message: { uuid: message.uuid },
  };
}

export function pickTemplate(company: CompanyContext, message: DispatchMessage): StoredTemplate {
  const template = resolveTemplate(company.templates, {
    name: message.templateName,
    channel: message.channel,
    language: message.contact.language,
    companyId: company.id,
    customerId: message.customerId,
  });
  if (!template)
    throw new RenderProblem(`no active ${message.channel} template named "${message.templateName}"`);
  return template;
}

/** Compiles each template text once per renderer, however many messages use it. */
export function createRenderer(settings: RenderSettings) {
  const compiled = new Map<string, CompiledTemplate>();
  const missing: string[] = [];

  function text(
    template: StoredTemplate,
    field: string,
    source: string,
    input: RenderInput,
    options: RenderOptions,
  ): string {
    const key = `${template.id}:${field}`;
    let program = compiled.get(key);
    try {
      if (!program) compiled.set(key, (program = compileTemplate(source)));
      const report = renderWithReport(program, input.context, {
        ...options,
        timezone: input.timezone,
        locale: input.language,
        strict: settings.strict,
      });
      for (const name of report.missing) if (!missing.includes(name)) missing.push(name);
      return report.text;
    } catch (err) {
      if (err instanceof TemplateError)
        throw new RenderProblem(`template ${template.name} (${field}): ${err.message}`);
      throw err;
    }
  }

  function render(input: RenderInput): RenderedMessage {
    const t = input.template;
    const channel: Channel = t.channel;
    if (channel === 'sms') {
      const raw = text(t, 'body', t.body, input, { channel: 'sms' });
      const { text: body, replaced } = input.replaceLookalikes
        ? normalizeForGsm(raw)
        : { text: raw, replaced: [] };
      const info = analyzeSms(body);
      if (info.segments === 0) throw new RenderProblem(`template ${t.name} rendered an empty text`);
      const tooLong = checkSegmentLimit(body, input.maxSmsSegments);
      if (tooLong) throw new RenderProblem(tooLong);
      return { channel, body, segments: info.segments, encoding: info.encoding, replaced };
    }
    if (channel === 'voice') {
      // plain text in, TwiML escaping once, by the TwiML builder
      const spokenText = text(t, 'body', t.body, input, { channel: 'voice', escape: 'none' });
      const snippets = t.details?.snippets ?? {};
      const snippet = (name: string) =>
        snippets[name] !== undefined
          ? text(t, name, snippets[name], input, { channel: 'voice', escape: 'none' })
          : undefined;
      const twiml = buildReminderTwiml({
        message: spokenText,
        confirmPrompt: snippet('confirm_prompt'),
        noInput: snippet('no_input'),
        language: input.language,
        gatherAction:
          settings.gatherAction && input.ownId
            ? `${settings.gatherAction}?${OWN_ID_PARAM}=${input.ownId}`
            : settings.gatherAction,
      });
      return { channel, spokenText, twiml };
    }
    const subject = text(t, 'subject', t.subject ?? '', input, { channel: 'email', escape: 'none' });
    const plain = text(t, 'body', t.body, input, { channel: 'email', escape: 'none' });
    const html = t.htmlBody
      ? text(t, 'html', t.htmlBody, input, { channel: 'email' })
      : plain
          .split(/\n{2,}/)
          .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
          .join('');
    return { channel, subject: subject.replace(/[\r\n]+/g, ' ').trim(), html, text: plain };
  }

  return { render, missing: () => [...missing] };
}

/**
 * The language a message is written (and spoken) in: the template's, which is the contact's when
 * the company has a template in it; an English fallback is read by an English voice, with English dates.
 */
function spokenLanguage(contact: string, template: string): string {
  const base = (tag: string) => tag.toLowerCase().split(/[-_]/)[0];
  return base(contact) === base(template) ? contact : template;
}

/** The render inputs of one message: its template, context, time zone and limits. */
export function renderInput(company: CompanyContext, message: DispatchMessage): RenderInput {
  const template = pickTemplate(company, message);
  return {
    template,
    context: templateContext(company, message),
    timezone: message.contact.timezone ?? message.location?.timezone ?? company.timezone,
    language: spokenLanguage(message.contact.language, template.language),
    maxSmsSegments: company.plan.maxSmsSegments,
    replaceLookalikes: company.settings.sms?.replaceLookalikes !== false,
  };
}
