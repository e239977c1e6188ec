import { describe, expect, it } from 'vitest';
import { classifyStatus } from '../../lib/webhooks/deliver';
import { signWebhook, verifyWebhook } from '../../lib/webhooks/signature';

const secret = 'whsec_test_0123456789';
const body = '{"id":"d1","event":"packet.completed","data":{"rows":3}}';
const at = new Date('2025-06-01T12:00:00Z');

describe('webhook signatures (X-Herald-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">)', () => {
  it('has the documented shape and verifies with the same secret', () => {
    const header = signWebhook(body, secret, at);
    expect(header).toMatch(/^t=1748779200,v1=[0-9a-f]{64}$/);
    expect(verifyWebhook(header, body, secret, { now: at })).toEqual({ ok: true, timestamp: 1748779200 });
  });

  it('refuses a changed body, another secret, or a changed timestamp', () => {
    const header = signWebhook(body, secret, at);
    expect(verifyWebhook(header, body.replace('3', '4'), secret, { now: at })).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
    expect(verifyWebhook(header, body, 'another', { now: at }).ok).toBe(false);
    const shifted = header.replace('t=1748779200', 't=1748779201');
    expect(verifyWebhook(shifted, body, secret, { now: at }).ok).toBe(false);
  });

  it('refuses a replay outside the tolerance (default 5 minutes), either way', () => {
    const header = signWebhook(body, secret, at);
    const later = new Date(at.getTime() + 301_000);
    expect(verifyWebhook(header, body, secret, { now: later })).toEqual({
      ok: false,
      reason: 'timestamp is 301 s away from now',
    });
    expect(verifyWebhook(header, body, secret, { now: new Date(at.getTime() - 301_000) }).ok).toBe(false);
    expect(verifyWebhook(header, body, secret, { now: later, toleranceSeconds: 600 }).ok).toBe(true);
  });

  it('accepts any of several v1 signatures (secret rotation) and refuses malformed headers', () => {
    const old = signWebhook(body, 'old-secret', at).split(',')[1];
    const header = `${signWebhook(body, secret, at)},${old}`;
    expect(verifyWebhook(header, body, 'old-secret', { now: at }).ok).toBe(true);
    expect(verifyWebhook(header, body, secret, { now: at }).ok).toBe(true);
    expect(verifyWebhook(undefined, body, secret).ok).toBe(false);
    expect(verifyWebhook('v1=abc', body, secret)).toEqual({
      ok: false,
      reason: 'malformed signature header',
    });
    expect(verifyWebhook('t=1748779200,v1=zz', body, secret, { now: at }).ok).toBe(false);
  });
});

describe('which answers are retried', () => {
  it('2xx delivered; 408, 429, 5xx retried; other 4xx and 3xx final', () => {
    expect([200, 202, 204].map(classifyStatus)).toEqual(['delivered', 'delivered', 'delivered']);
    expect([408, 429, 500, 502, 503].map(classifyStatus)).toEqual([
      'retry',
      'retry',
      'retry',
      'retry',
      'retry',
    ]);
    expect([400, 401, 404, 410, 422, 301].map(classifyStatus)).toEqual([
      'permanent',
      'permanent',
      'permanent',
      'permanent',
      'permanent',
      'permanent',
    ]);
  });
});
