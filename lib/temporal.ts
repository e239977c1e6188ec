// Temporal connections for clients and workers, and the links operators follow into the Web UI.
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

export interface TemporalSettings {
  address: string;
  namespace: string;
  uiUrl?: string;
  tls?: boolean;
  apiKey?: string;
}

export async function connectClient(t: TemporalSettings): Promise<Client> {
  const connection = await Connection.connect({
    address: t.address,
    tls: t.tls || undefined,
    apiKey: t.apiKey,
  });
  return new Client({ connection, namespace: t.namespace });
}

export function connectWorker(t: TemporalSettings): Promise<NativeConnection> {
  return NativeConnection.connect({ address: t.address, tls: t.tls || undefined, apiKey: t.apiKey });
}

export function workflowUiUrl(t: TemporalSettings, workflowId: string, runId?: string): string | undefined {
  if (!t.uiUrl) return undefined;
  const base = `${t.uiUrl.replace(/\/$/, '')}/namespaces/${encodeURIComponent(t.namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId ? `${base}/${runId}/history` : base;
}
