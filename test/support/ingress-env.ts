// The set-up ingress test files share: the app, an ingress on a free port, and a company with credits.
import { afterAll, beforeAll } from 'vitest';
import type { App } from '../../lib/app';
import { createTestCompany, type TestCompany } from './dispatch';
import { openTestApp } from './harness';
import { startTestIngress, type TestIngress } from './ingress';

export interface IngressEnv {
  app: App;
  ingress: TestIngress;
  company: TestCompany;
}

/**
 * Call at a test file's top level: opens the app, starts the ingress and creates a company holding 100 credits
 * before the file's tests, hands them to `ready`, and closes them after. A test that starts the ingress again
 * puts the new one in the env's `ingress`, so that is the one closed.
 */
export function useIngressEnv(ready: (env: IngressEnv) => void): void {
  let app: App | undefined;
  let env: IngressEnv | undefined;
  beforeAll(async () => {
    app = await openTestApp();
    const ingress = await startTestIngress(app);
    env = { app, ingress, company: await createTestCompany(app.sql, { credits: 100 }) };
    ready(env);
  });
  afterAll(async () => {
    await env?.ingress.close();
    await app?.close();
  });
}
