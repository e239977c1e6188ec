// Temporal connections for clients and workers, and the links operators follow into the Web UI.
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { NativeConnection } from '@temporalio/worker';
import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** How to reach a Temporal frontend: the same for clients, workers and the runtime's own set-up. */
export interface TemporalConnectionOptions {
  address: string;
  /** true = TLS with the system's CAs; an object for a private CA, mTLS or a server name */
  tls?: TLSConfig | boolean;
  apiKey?: string;
  /** gRPC headers sent with every call (TEMPORAL_GRPC_META_* or a profile's grpc_meta) */
  metadata?: Record<string, string>;
}

export interface TemporalSettings extends TemporalConnectionOptions {
  namespace: string;
  uiUrl?: string;
}

/** The connection as the `temporal` CLI would read it: a profile of the config file, then TEMPORAL_* variables. */
export interface TemporalProfile {
  address?: string;
  namespace?: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
  metadata?: Record<string, string>;
}

/**
 * Reads TEMPORAL_PROFILE / TEMPORAL_CONFIG_FILE (default ~/.config/temporalio/temporal.toml) and the
 * TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS* and TEMPORAL_GRPC_META_*
 * variables through @temporalio/envconfig, so herald connects wherever `temporal` does.
 */
export function readTemporalProfile(source: NodeJS.ProcessEnv): TemporalProfile {
  // an empty variable means unset here as everywhere in herald's configuration
  const env = Object.fromEntries(
    Object.entries(source).filter(
      (e): e is [string, string] => typeof e[1] === 'string' && e[1].trim() !== '',
    ),
  );
  const { connectionOptions, namespace } = loadClientConnectConfig({
    profile: env.TEMPORAL_PROFILE,
    overrideEnvVars: env,
    // an explicit profile must exist; the default one may be absent
    disableFile: !env.TEMPORAL_PROFILE && !env.TEMPORAL_CONFIG_FILE && !defaultConfigFileExists(env),
  });
  return {
    address: connectionOptions.address,
    namespace,
    tls: connectionOptions.tls as TLSConfig | boolean | undefined,
    apiKey: typeof connectionOptions.apiKey === 'string' ? connectionOptions.apiKey : undefined,
    metadata: connectionOptions.metadata as Record<string, string> | undefined,
  };
}

/** envconfig fails on a default file that is not there; the CLI just goes without it. */
function defaultConfigFileExists(env: Record<string, string>): boolean {
  const base = env.XDG_CONFIG_HOME ?? path.join(env.HOME ?? os.homedir(), '.config');
  try {
    return statSync(path.join(base, 'temporalio', 'temporal.toml')).isFile();
  } catch {
    return false;
  }
}

const connectionOptions = (t: TemporalConnectionOptions) => ({
  address: t.address,
  tls: t.tls || undefined,
  apiKey: t.apiKey,
  metadata: t.metadata,
});

export function connectTemporal(
  t: TemporalConnectionOptions,
  connectTimeoutMs?: number,
): Promise<Connection> {
  return Connection.connect({ ...connectionOptions(t), connectTimeout: connectTimeoutMs });
}

export async function connectClient(t: TemporalSettings): Promise<Client> {
  return new Client({ connection: await connectTemporal(t), namespace: t.namespace });
}

export function connectWorker(t: TemporalConnectionOptions): Promise<NativeConnection> {
  return NativeConnection.connect(connectionOptions(t));
}

export function workflowUiUrl(t: TemporalSettings, workflowId: string, runId?: string): string | undefined {
  if (!t.uiUrl) return undefined;
  const base = `${t.uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(t.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
