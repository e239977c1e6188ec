// Starts the Temporal dev server (with its Web UI) and registers herald's search attributes.
import { spawn, type ChildProcess } from 'node:child_process';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { SA, SEARCH_ATTRIBUTES, SEARCH_ATTRIBUTE_TYPE } from '../names';
import type { Logger } from '../log';
import { choosePort, freePort, PortInUseError, portInUseByGoOutput, startOnPickedPorts } from './ports';
import { stopChild } from './stop-child';

export interface RunningTemporal {
  address: string;
  uiUrl?: string;
  pid?: number;
  stop(): Promise<void>;
}

const searchAttributeFlags = () =>
  Object.values(SEARCH_ATTRIBUTES).flatMap((name) => [
    '--search-attribute',
    `${name}=${SEARCH_ATTRIBUTE_TYPE}`,
  ]);

async function waitUntilServing(
  address: string,
  namespace: string,
  child: ChildProcess,
  output: () => string,
) {
  const deadline = Date.now() + 90_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) {
      const message = `The Temporal dev server exited with code ${child.exitCode}:\n${output()}`;
      const taken = portInUseByGoOutput(output());
      throw taken ? new PortInUseError(taken, message) : new Error(message);
    }
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.describeNamespace({ namespace });
        return;
      } finally {
        await connection.close();
      }
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  child.kill('SIGKILL');
  throw new Error(
    `The Temporal dev server did not answer at ${address} within 90 s: ${String(lastError)}\n${output()}`,
  );
}

export async function startTemporalDevServer(opts: {
  cliPath: string;
  namespace: string;
  /** the frontend's gRPC port; 0 = a random free port */
  port: number;
  /** 0 = a random free port */
  uiPort: number;
  /** file for persistent state; undefined keeps everything in memory */
  dbFile?: string;
  log: Logger;
  /** picks a free port for those not given; a test hands out a taken one */
  freePort?: () => Promise<number>;
}): Promise<RunningTemporal> {
  const pick = opts.freePort ?? freePort;
  return startOnPickedPorts({
    what: 'the Temporal dev server',
    log: opts.log,
    configured: [opts.port, opts.uiPort],
    ports: async () => ({
      port:
        opts.port === 0
          ? await pick()
          : await choosePort(opts.port, 'the embedded Temporal server', 'EMBEDDED_TEMPORAL_PORT'),
      uiPort:
        opts.uiPort === 0
          ? await pick()
          : await choosePort(opts.uiPort, 'the Temporal Web UI', 'TEMPORAL_UI_PORT'),
      httpPort: await pick(),
      metricsPort: await pick(),
    }),
    start: (ports) => startOnPorts(opts, ports),
  });
}

async function startOnPorts(
  opts: { cliPath: string; namespace: string; dbFile?: string; log: Logger },
  {
    port,
    uiPort,
    httpPort,
    metricsPort,
  }: { port: number; uiPort: number; httpPort: number; metricsPort: number },
): Promise<RunningTemporal> {
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--log-level',
    'error',
    ...searchAttributeFlags(),
    ...(opts.namespace !== 'default' ? ['--namespace', opts.namespace] : []),
    ...(opts.dbFile ? ['--db-filename', opts.dbFile] : []),
    // retain finished workflows long enough for operators to look back in the UI
    '--dynamic-config-value',
    'system.forceSearchAttributesCacheRefreshOnRead=true',
    // one partition per task queue: a task goes straight to a waiting poller, never waiting in a
    // partition that no poller of the queue's few is on until it is forwarded
    '--dynamic-config-value',
    'matching.numTaskqueueReadPartitions=1',
    '--dynamic-config-value',
    'matching.numTaskqueueWritePartitions=1',
  ];
  const child = spawn(opts.cliPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString().split('\n').filter(Boolean));
    lines.splice(0, Math.max(0, lines.length - 20));
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawnFailed = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`Could not run ${opts.cliPath}: ${err.message}`))),
  );
  const address = `127.0.0.1:${port}`;
  await Promise.race([waitUntilServing(address, opts.namespace, child, () => lines.join('\n')), spawnFailed]);
  opts.log.debug({ address, uiPort }, 'Temporal dev server is serving');
  return {
    address,
    uiUrl: `http://127.0.0.1:${uiPort}`,
    pid: child.pid,
    stop: () => stopChild(child, 'SIGTERM', 10_000),
  };
}

/** Without the CLI and without Go, the SDK downloads its own dev server (needs internet). */
export async function startSdkDownloadedServer(opts: {
  namespace: string;
  log: Logger;
}): Promise<RunningTemporal> {
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  opts.log.warn(
    'no Temporal CLI and no Go: letting the Temporal SDK download its dev server (needs internet)',
  );
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      namespace: opts.namespace,
      ip: '127.0.0.1',
      ui: true,
      searchAttributes: Object.values(SA),
    },
  }).catch((err: Error) => {
    throw new Error(
      `The Temporal SDK could not download its dev server (${err.message}). ` +
        'Install Go (herald then builds the Temporal CLI) or the Temporal CLI itself and set TEMPORAL_CLI_PATH, ' +
        'or point TEMPORAL_ADDRESS at a running Temporal server.',
    );
  });
  const address = env.connection.options.address;
  return { address, uiUrl: undefined, stop: () => env.teardown() };
}

export class MissingSearchAttributesError extends Error {
  constructor(namespace: string, missing: string[], cause: unknown) {
    super(
      `Temporal namespace ${namespace} lacks herald's search attributes ${missing.join(', ')}, and this ` +
        `connection may not add them (${(cause as Error).message}). On Temporal Cloud add them once with ` +
        `\`tcld namespace search-attributes add --namespace ${namespace} ` +
        missing.map((name) => `--search-attribute "${name}=Keyword"`).join(' ') +
        '` or in the Cloud UI (Namespace > Search attributes), all of type Keyword; on a self-hosted ' +
        'cluster, `temporal operator search-attribute create` does it.',
      { cause },
    );
    this.name = 'MissingSearchAttributesError';
  }
}

/** gRPC codes for "this endpoint does not let you do that": Temporal Cloud's answer to the operator API. */
const NOT_ALLOWED = new Set([/* PERMISSION_DENIED */ 7, /* UNIMPLEMENTED */ 12, /* UNAUTHENTICATED */ 16]);

/**
 * Makes sure herald's custom search attributes exist on the namespace. Where they cannot be added
 * through the operator API (Temporal Cloud), checks they exist and says how to add them.
 */
export async function ensureSearchAttributes(connection: Connection, namespace: string): Promise<string[]> {
  const wanted = Object.values(SEARCH_ATTRIBUTES);
  let missing: string[];
  try {
    const existing = await connection.operatorService.listSearchAttributes({ namespace });
    const known = new Set([
      ...Object.keys(existing.customAttributes ?? {}),
      ...Object.keys(existing.systemAttributes ?? {}),
    ]);
    missing = wanted.filter((name) => !known.has(name));
    if (missing.length === 0) return [];
    await connection.operatorService.addSearchAttributes({
      namespace,
      // 2 = INDEXED_VALUE_TYPE_KEYWORD
      searchAttributes: Object.fromEntries(missing.map((name) => [name, 2])),
    });
    return missing;
  } catch (err) {
    if (!isGrpcServiceError(err) || !NOT_ALLOWED.has(err.code)) throw err;
    missing ??= await missingByDescribe(connection, namespace, wanted);
    if (missing.length === 0) return [];
    throw new MissingSearchAttributesError(namespace, missing, err);
  }
}

/** Without the operator API, the namespace's own description lists its custom attributes (Temporal Cloud answers it). */
async function missingByDescribe(
  connection: Connection,
  namespace: string,
  wanted: string[],
): Promise<string[]> {
  const described = await connection.workflowService.describeNamespace({ namespace });
  const known = new Set(
    Object.keys(described.config?.customSearchAttributeAliases ?? {}).concat(
      Object.values(described.config?.customSearchAttributeAliases ?? {}),
    ),
  );
  return wanted.filter((name) => !known.has(name));
}
