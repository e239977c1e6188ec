// Reads the secrets a source names by environment variable, at the moment they are needed and never stored.
import type { EnvRef } from '../../schemas/ingest-source';
import { SourceError } from './errors';

/** A secret the source names is not set on this worker: an operator must set it, so retrying cannot help. */
export class MissingSecretError extends SourceError {
  override readonly name = 'MissingSecretError';
  constructor(
    readonly variable: string,
    usedFor: string,
  ) {
    super(
      'MissingSecret',
      `the environment variable ${variable} (${usedFor}) is not set on this worker`,
      true,
    );
  }
}

/**
 * A source or webhook names a variable outside the allowed prefixes: herald's own credentials
 * (TWILIO_AUTH_TOKEN, S3_SECRET_ACCESS_KEY) must never be sent to a company's server as a header.
 */
export class SecretNotAllowedError extends SourceError {
  override readonly name = 'SecretNotAllowedError';
  constructor(
    readonly variable: string,
    usedFor: string,
    prefixes: readonly string[],
  ) {
    super('SecretNotAllowed', secretNameProblem(variable, prefixes)! + ` (${usedFor})`, true);
  }
}

/** The names a source or webhook may read a secret from, unless SECRET_ENV_PREFIXES says otherwise. */
export const DEFAULT_SECRET_ENV_PREFIXES: readonly string[] = ['HERALD_SECRET_'];

/** Where secrets are read from: the process's environment, and which of its variables may be read. */
export interface SecretEnv {
  env: NodeJS.ProcessEnv;
  prefixes: readonly string[];
}

/** Why a variable may not hold a source's or webhook's secret, or undefined when it may. */
export function secretNameProblem(variable: string, prefixes: readonly string[]): string | undefined {
  if (prefixes.some((prefix) => variable.startsWith(prefix))) return undefined;
  return `the environment variable ${variable} may not be read as a secret: its name must start with ${prefixes.join(' or ')} (SECRET_ENV_PREFIXES)`;
}

export function readSecret(variable: string, usedFor: string, secrets: SecretEnv): string {
  if (secretNameProblem(variable, secrets.prefixes))
    throw new SecretNotAllowedError(variable, usedFor, secrets.prefixes);
  const value = secrets.env[variable];
  if (value === undefined || value === '') throw new MissingSecretError(variable, usedFor);
  return value;
}

/** Header or query values with their env references read: `what` says which, for the error naming a missing one. */
export function resolveValues(
  values: Record<string, string | EnvRef>,
  what: 'header' | 'query parameter',
  secrets: SecretEnv,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    out[name] =
      typeof value === 'string'
        ? value
        : (value.prefix ?? '') + readSecret(value.env, `${what} ${name}`, secrets);
  }
  return out;
}

/** `Bearer {env:HERALD_SECRET_ACME_API_TOKEN}` (a command-line value) names a secret by its variable; anything else is literal. */
export function envTemplate(value: string): string | EnvRef {
  const match = /^(.*)\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/s.exec(value);
  if (!match) return value;
  return match[1] ? { env: match[2]!, prefix: match[1] } : { env: match[2]! };
}
