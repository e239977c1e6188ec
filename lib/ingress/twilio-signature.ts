// Checks X-Twilio-Signature against the public URL Twilio called, with the account's auth token (the SDK's own check).
import twilio from 'twilio';

export interface TwilioSignatureCheck {
  /** the account's auth token; without one nothing can be verified and every request is refused */
  authToken?: string;
  /** the base URL Twilio calls (PUBLIC_BASE_URL): behind a proxy the request's own Host is not what Twilio signed */
  publicBaseUrl: string;
}

/**
 * Twilio signs the full URL it requested (scheme, host, path and query) followed by the sorted
 * form parameters. A missing header, a missing token or a mismatch is a refusal.
 */
export function verifyTwilioSignature(
  check: TwilioSignatureCheck,
  pathAndQuery: string,
  signature: string | undefined,
  params: Record<string, string>,
): boolean {
  if (!check.authToken || !signature) return false;
  const url = `${check.publicBaseUrl.replace(/\/$/, '')}${pathAndQuery}`;
  return twilio.validateRequest(check.authToken, signature, url, params);
}

/** What Twilio would send as X-Twilio-Signature for this request: used to simulate callbacks in the demo. */
export function twilioSignature(authToken: string, url: string, params: Record<string, string>): string {
  return twilio.getExpectedTwilioSignature(authToken, url, params);
}
