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

export function readSecret(variable: string, usedFor: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[variable];
  if (value === undefined || value === '') throw new MissingSecretError(variable, usedFor);
  return value;
}

/** Header or query values with their env references read: `what` says which, for the error naming a missing one. */
export function resolveValues(
  values: Record<string, string | EnvRef>,
  what: 'header' | 'query parameter',
  env: NodeJS.ProcessEnv = process.env,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(values)) {
    out[name] =
      typeof value === 'string'
        ? value
        : (value.prefix ?? '') + readSecret(value.env, `${what} ${name}`, env);
  }
  return out;
}

/** `Bearer {env:ACME_API_TOKEN}` (a command-line value) names a secret by its variable; anything else is literal. */
export function envTemplate(value: string): string | EnvRef {
  const match = /^(.*)\{env:([A-Za-z_][A-Za-z0-9_]*)\}$/s.exec(value);
  if (!match) return value;
  return match[1] ? { env: match[2]!, prefix: match[1] } : { env: match[2]! };
}
