// Builds (once) the provider instance behind each account, from the configuration's credentials or given instances.
import type { Config } from '../config';
import type { Sql } from '../db';
import { leaseTimes, type LeaseTimes } from '../send-lease';
import type { ProviderAccount } from './accounts';
import { createOutboxEmail, createOutboxSms, createOutboxVoice } from './outbox';
import { createSesEmail } from './ses-email';
import { createTwilioSms } from './twilio-sms';
import { createTwilioVoice } from './twilio-voice';
import type { AnyProvider } from './types';

export interface ProviderRegistry {
  forAccount(account: ProviderAccount): AnyProvider;
  /** how long one vendor request may take; reconciliation waits this long before asking */
  readonly requestTimeoutMs: number;
  /** a send attempt silent this long is presumed dead (SEND_HEARTBEAT_TIMEOUT_MS) */
  readonly heartbeatTimeoutMs: number;
  /** how long a send attempt's lease lasts unrenewed, and its grace after (lib/send-lease) */
  readonly leaseTimes: LeaseTimes;
  /** the fraction of each cap sends are scheduled under (jitter room) */
  readonly headroom: number;
  /** the public base URL callbacks reach us at, when herald has one */
  readonly publicBaseUrl?: string;
  /** signs email unsubscribe links (UNSUBSCRIBE_SECRET); the ingress checks the signature */
  readonly unsubscribeSecret?: string;
}

export class ProviderConfigError extends Error {
  override readonly name = 'ProviderConfigError';
}

export interface RegistryOptions {
  sql: Sql;
  config: Config;
  /** instances for particular account keys (another vendor endpoint, a test's stand-in) */
  instances?: Record<string, AnyProvider>;
}

export function createProviderRegistry({ sql, config, instances = {} }: RegistryOptions): ProviderRegistry {
  const built = new Map<string, AnyProvider>(Object.entries(instances));
  const timeoutMs = config.sending.providerTimeoutMs;

  function twilioSettings(account: ProviderAccount) {
    const { accountSid, authToken, apiBaseUrl } = config.twilio;
    if (!accountSid || !authToken) {
      throw new ProviderConfigError(
        `account ${account.key} sends through Twilio, but TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set`,
      );
    }
    return { account: account.key, accountSid, authToken, apiBaseUrl, timeoutMs };
  }

  function build(account: ProviderAccount): AnyProvider {
    switch (`${account.provider}/${account.channel}`) {
      case 'outbox/sms':
        return createOutboxSms(sql, account.key);
      case 'outbox/voice':
        return createOutboxVoice(sql, account.key);
      case 'outbox/email':
        return createOutboxEmail(sql, account.key);
      case 'twilio/sms':
        return createTwilioSms({
          ...twilioSettings(account),
          messagingServiceSid: account.settings.messagingServiceSid ?? config.twilio.messagingServiceSid,
        });
      case 'twilio/voice':
        return createTwilioVoice(twilioSettings(account));
      case 'ses/email':
        return createSesEmail({
          account: account.key,
          region: config.ses.region,
          endpoint: config.ses.endpoint,
          configurationSet: account.settings.configurationSet ?? config.ses.configurationSet,
          timeoutMs,
        });
      default:
        throw new ProviderConfigError(
          `account ${account.key}: ${account.provider} does not send ${account.channel}`,
        );
    }
  }

  return {
    requestTimeoutMs: timeoutMs,
    heartbeatTimeoutMs: config.sending.heartbeatTimeoutMs,
    leaseTimes: leaseTimes(config.sending.heartbeatTimeoutMs, timeoutMs),
    headroom: config.sending.headroomPercent / 100,
    publicBaseUrl: config.ingress.publicBaseUrl,
    unsubscribeSecret: config.ingress.unsubscribeSecret,
    forAccount(account) {
      let provider = built.get(account.key);
      if (!provider) built.set(account.key, (provider = build(account)));
      if (provider.channel !== account.channel) {
        throw new ProviderConfigError(
          `account ${account.key} is for ${account.channel}, its provider sends ${provider.channel}`,
        );
      }
      return provider;
    },
  };
}
