// Posts to the ingress exactly as Twilio does (form body, X-Twilio-Signature): the demo's callbacks and replies.
import { createHash } from 'node:crypto';
import { twilioSignature } from './twilio-signature';

export interface TwilioPost {
  /** the base URL Twilio would call (PUBLIC_BASE_URL), which the signature covers */
  publicBaseUrl: string;
  /** where the request actually goes (the ingress's own address), when it differs */
  targetUrl?: string;
  authToken: string;
  path: string;
  params: Record<string, string>;
}

export interface TwilioPostResult {
  status: number;
  body: string;
}

export async function postAsTwilio(post: TwilioPost): Promise<TwilioPostResult> {
  const signedUrl = `${post.publicBaseUrl.replace(/\/$/, '')}${post.path}`;
  const response = await fetch(`${(post.targetUrl ?? post.publicBaseUrl).replace(/\/$/, '')}${post.path}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilioSignature(post.authToken, signedUrl, post.params),
      'user-agent': 'TwilioProxy/1.1',
    },
    body: new URLSearchParams(post.params).toString(),
  });
  return { status: response.status, body: await response.text() };
}

/** A Twilio-shaped id (two letters, 32 hex digits) derived from `seed`: the same simulated reply keeps its id. */
export function simulatedTwilioSid(prefix: 'SM' | 'CA', seed: string): string {
  return `${prefix}${createHash('sha256').update(seed).digest('hex').slice(0, 32)}`;
}
