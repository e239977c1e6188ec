// What a client may hold of the ingress: a made-up unsubscribe link is a plain "not found".
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { INGRESS_PATHS } from '../lib/names';
import { openTestApp } from './support/harness';
import { startTestIngress, type TestIngress } from './support/ingress';

let app: App;
let ingress: TestIngress;

beforeAll(async () => {
  app = await openTestApp();
  ingress = await startTestIngress(app);
});
afterAll(async () => {
  await ingress?.close();
  await app?.close();
});

describe('the ingress', () => {
  it('answers an unsubscribe link with a malformed % escape as not found, not as an error', async () => {
    for (const token of ['%E0%A4%A', '%zz', 'abc%']) {
      const answer = await fetch(`${ingress.url}${INGRESS_PATHS.emailUnsubscribe}/${token}`);
      expect(answer.status, token).toBe(404);
      expect(await answer.text()).toContain('This link is not valid');
    }
  });
});
