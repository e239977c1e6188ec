// Keeps the provider accounts the environment configures (Twilio, SES, their fallbacks) in step with the database.
import type { Config } from '../config';
import type { Sql } from '../db';
import type { Channel, ProviderKind } from './types';
import { makeDefault, setFallback, upsertAccount, type AccountDefinition } from './accounts';

/** The embedded outbox accounts the first migration creates. */
export const OUTBOX_ACCOUNTS: Record<Channel, string> = {
  sms: 'outbox-sms',
  voice: 'outbox-voice',
  email: 'outbox-email',
};

/** Account keys of the environment's vendor accounts. */
export const CONFIGURED_ACCOUNTS = { sms: 'twilio-sms', voice: 'twilio-voice', email: 'ses-email' } as const;

function definition(config: Config, channel: Channel): AccountDefinition {
  const batchSize = config.sending.batchSize;
  if (channel === 'email') {
    return {
      key: CONFIGURED_ACCOUNTS.email,
      channel,
      provider: 'ses',
      maxPerSecond: config.sending.sesMaxPerSecond,
      batchSize,
      settings: config.ses.configurationSet ? { configurationSet: config.ses.configurationSet } : {},
      senders: config.ses.fromAddress
        ? [{ address: config.ses.fromAddress, kind: 'email', maxPerSecond: config.sending.sesMaxPerSecond }]
        : [],
    };
  }
  return {
    key: CONFIGURED_ACCOUNTS[channel],
    channel,
    provider: 'twilio',
    maxPerSecond: config.sending.twilioMaxPerSecond,
    batchSize,
    settings:
      config.twilio.messagingServiceSid && channel === 'sms'
        ? { messagingServiceSid: config.twilio.messagingServiceSid }
        : {},
    senders: config.twilio.fromNumber
      ? [
          {
            address: config.twilio.fromNumber,
            kind: 'long_code',
            maxPerSecond: config.sending.twilioNumberMaxPerSecond,
          },
        ]
      : [],
  };
}

async function accountFor(
  sql: Sql,
  config: Config,
  channel: Channel,
  provider: ProviderKind,
): Promise<string> {
  if (provider === 'outbox') return OUTBOX_ACCOUNTS[channel];
  return (await upsertAccount(sql, definition(config, channel))).key;
}

/** At start: each channel's primary becomes the default account, with the configured fallback (or none). */
export async function syncConfiguredAccounts(sql: Sql, config: Config): Promise<Record<Channel, string>> {
  const result = {} as Record<Channel, string>;
  for (const channel of ['sms', 'voice', 'email'] as const) {
    const primary = await accountFor(sql, config, channel, config.providers[channel]);
    const fallbackKind = config.sending.fallback[channel];
    const fallback = fallbackKind ? await accountFor(sql, config, channel, fallbackKind) : null;
    await makeDefault(sql, primary);
    await setFallback(sql, primary, fallback);
    result[channel] = primary;
  }
  return result;
}
