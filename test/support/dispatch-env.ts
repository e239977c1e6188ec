// The set-up dispatch test files share: the app, the Twilio stand-in, and a company with credits to send with.
import { afterAll, beforeAll } from 'vitest';
import type { App } from '../../lib/app';
import type { ProviderAccount } from '../../lib/providers/accounts';
import type { DispatchTotals } from '../../workflows/dispatch-messages';
import { startTwilioStandin, type TwilioStandin } from '../standins/twilio';
import { createTestCompany, runDispatch, type DispatchWorkers, type TestCompany } from './dispatch';
import { openTestApp } from './harness';

export interface DispatchEnv {
  app: App;
  twilio: TwilioStandin;
  company: TestCompany;
}

/**
 * Call at a test file's top level: opens the app, starts the Twilio stand-in and creates a company holding
 * `credits` before the file's tests, hands them to `ready`, and closes them after.
 */
export function useDispatchEnv(opts: { credits: number }, ready: (env: DispatchEnv) => void): void {
  let app: App | undefined;
  let twilio: TwilioStandin | undefined;
  beforeAll(async () => {
    app = await openTestApp();
    twilio = await startTwilioStandin();
    ready({ app, twilio, company: await createTestCompany(app.sql, { credits: opts.credits }) });
  });
  afterAll(async () => {
    await twilio?.close();
    await app?.close();
  });
}

/** Dispatches the company's due messages on the account's channel through that account; the run's totals. */
export function dispatchThrough(
  app: App,
  workers: DispatchWorkers,
  company: TestCompany,
  account: ProviderAccount,
  opts: { sendAttempts?: number } = {},
): Promise<DispatchTotals> {
  return runDispatch(app, workers, {
    companyId: company.id,
    companyAlias: company.alias,
    channel: account.channel,
    accountKey: account.key,
    ...opts,
  });
}
