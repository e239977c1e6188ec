// Escaping of substituted values for the channel's markup; the template's own text is never touched.

import type { Channel, EscapeMode } from './types';

const HTML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const XML: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Email bodies are HTML; voice bodies go into SSML/TwiML; SMS is plain text. */
export function escapeModeFor(channel: Channel): EscapeMode {
  return channel === 'email' ? 'html' : channel === 'voice' ? 'xml' : 'none';
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => HTML[ch]!);
}

/**
 * Also drops the control characters XML 1.0 forbids outright: one stray \x0B in a contact's name
 * would otherwise make the whole TwiML document unparseable and the call fail.
 */
export function escapeXml(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/g, '').replace(/[&<>"']/g, (ch) => XML[ch]!);
}

export function escapeValue(text: string, mode: EscapeMode): string {
  return mode === 'html' ? escapeHtml(text) : mode === 'xml' ? escapeXml(text) : text;
}
