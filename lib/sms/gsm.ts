// The GSM 03.38 alphabet: which characters an SMS can carry in 7-bit encoding, and at what cost.

// The basic table, minus ESC (0x1B), which only introduces extension characters and is never text.
export const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** Sent as ESC + character, so each costs two septets. */
export const GSM_EXTENSION = '\f^{}\\[~]|€';

const BASIC: ReadonlySet<string> = new Set(GSM_BASIC);
const EXTENSION: ReadonlySet<string> = new Set(GSM_EXTENSION);

/** Septets one character (code point) takes in GSM-7: 1, 2 for the extension table, 0 if it cannot be sent. */
export function gsmSeptets(char: string): 0 | 1 | 2 {
  return BASIC.has(char) ? 1 : EXTENSION.has(char) ? 2 : 0;
}

export function isGsmChar(char: string): boolean {
  return gsmSeptets(char) !== 0;
}
