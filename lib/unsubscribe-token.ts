// Signed email-unsubscribe tokens: the message's uuid and an HMAC of it, so a link cannot be made for someone else.
import { createHmac, timingSafeEqual } from 'node:crypto';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const mac = (uuid: string, secret: string) =>
  createHmac('sha256', secret).update(`unsubscribe:${uuid}`).digest('base64url').slice(0, 32);

/**
 * `<uuid>.<mac>` with a secret (UNSUBSCRIBE_SECRET). Without one (the embedded mode, where mail only
 * reaches the local outbox) the token is the bare message uuid, a random 122-bit value.
 */
export function unsubscribeToken(messageUuid: string, secret: string | undefined): string {
  return secret ? `${messageUuid}.${mac(messageUuid, secret)}` : messageUuid;
}

/** The message uuid a token stands for, or undefined when it is forged, altered or unsigned while a secret is set. */
export function verifyUnsubscribeToken(token: string, secret: string | undefined): string | undefined {
  const [uuid, signature, ...rest] = token.split('.');
  if (!uuid || !UUID.test(uuid) || rest.length) return undefined;
  if (!secret) return signature === undefined ? uuid : undefined;
  if (!signature) return undefined;
  const expected = Buffer.from(mac(uuid, secret));
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given) ? uuid : undefined;
}
