// Builds the TwiML of a reminder call: the message in the contact's language, then press 1 to confirm or 2 to cancel, asked twice.
import twilio from 'twilio';

export interface ReminderCallScript {
  /** the rendered template body, plain text (TwiML escaping happens here) */
  message: string;
  /** "Press 1 to confirm... Press 2 to cancel." from the template's snippets; no prompt = no Gather */
  confirmPrompt?: string;
  /** said when no key was pressed after the repeat */
  noInput?: string;
  /** BCP 47 language of the contact, e.g. es or es-MX */
  language: string;
  /** where Twilio posts the pressed digit (the ingress); unset = Twilio's default */
  gatherAction?: string;
}

/** Twilio's <Say> wants a full locale; a contact's bare language gets its most common one. */
const DEFAULT_LOCALES: Record<string, string> = {
  en: 'en-US',
  es: 'es-US',
  fr: 'fr-FR',
  de: 'de-DE',
  it: 'it-IT',
  pt: 'pt-BR',
  zh: 'zh-CN',
  ja: 'ja-JP',
  ko: 'ko-KR',
  ru: 'ru-RU',
  vi: 'vi-VN',
  pl: 'pl-PL',
  nl: 'nl-NL',
  hi: 'hi-IN',
};

export function sayLanguage(language: string): string {
  const [base, region] = language.trim().split(/[-_]/);
  const lower = (base ?? 'en').toLowerCase();
  if (region) return `${lower}-${region.toUpperCase()}`;
  return DEFAULT_LOCALES[lower] ?? 'en-US';
}

type SayLanguage = Parameters<InstanceType<typeof twilio.twiml.VoiceResponse>['say']>[0] extends infer A
  ? A extends { language?: infer L }
    ? L
    : never
  : never;

export function buildReminderTwiml(script: ReminderCallScript): string {
  const response = new twilio.twiml.VoiceResponse();
  const language = sayLanguage(script.language) as SayLanguage;
  if (!script.confirmPrompt) {
    response.say({ language }, script.message);
    return response.toString();
  }
  const gather = () =>
    response.gather({
      numDigits: 1,
      timeout: 6,
      ...(script.gatherAction ? { action: script.gatherAction, method: 'POST' as const } : {}),
    });
  const first = gather();
  first.say({ language }, script.message);
  first.say({ language }, script.confirmPrompt);
  // the repeat: people often miss the prompt the first time
  gather().say({ language }, script.confirmPrompt);
  if (script.noInput) response.say({ language }, script.noInput);
  return response.toString();
}
