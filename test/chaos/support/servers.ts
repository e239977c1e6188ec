// Servers a fault scenario can crash and bring back on the same data and port: Postgres and the Temporal dev server.
import path from 'node:path';
import type { Logger } from '../../../lib/log';
import { startEmbeddedPostgres, type RunningPostgres } from '../../../lib/runtime/postgres';
import { GO_TOOLS, requireGoTool } from '../../../lib/runtime/go-tools';
import { startTemporalDevServer, type RunningTemporal } from '../../../lib/runtime/temporal-server';

export interface CrashablePostgres {
  url: string;
  /**
   * Postgres's immediate shutdown (SIGQUIT): no checkpoint, sessions cut; the next start recovers from
   * the WAL (the server is durable, as in production: a commit it acknowledged survives)
   */
  crash(): Promise<void>;
  /** starts again on the same data directory and port */
  start(): Promise<void>;
  stop(): Promise<void>;
}

function exited(pid: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      try {
        process.kill(pid, 0);
        setTimeout(check, 50);
      } catch {
        resolve();
      }
    };
    check();
  });
}

export interface PortPicker {
  /** picks the first start's free ports; a test hands out a taken one */
  freePort?: () => Promise<number>;
}

export async function startCrashablePostgres(
  dir: string,
  log: Logger,
  opts: PortPicker = {},
): Promise<CrashablePostgres> {
  const dataDir = path.join(dir, 'pg');
  // port 0: the first start picks a port, and picks again if another program takes it before Postgres binds it
  let running: RunningPostgres | undefined = await startEmbeddedPostgres({
    dataDir,
    port: 0,
    log,
    freePort: opts.freePort,
  });
  const url = running.url;
  // the port the first start settled on: every restart keeps it, so the url stays right
  const port = Number(new URL(url).port);
  return {
    url,
    async crash() {
      const pid = running?.pid;
      running = undefined;
      if (!pid) return;
      process.kill(pid, 'SIGQUIT');
      await exited(pid);
    },
    async start() {
      if (!running) running = await startEmbeddedPostgres({ dataDir, port, log });
    },
    async stop() {
      await running?.stop();
      running = undefined;
    },
  };
}

export interface RestartableTemporal {
  address: string;
  namespace: string;
  /** kills the dev server outright (SIGKILL) and starts it again on the same port and state file */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

export async function startRestartableTemporal(
  dir: string,
  namespace: string,
  log: Logger,
  opts: PortPicker = {},
): Promise<RestartableTemporal> {
  const cli = await requireGoTool(GO_TOOLS.temporal);
  const start = (port: number) =>
    startTemporalDevServer({
      cliPath: cli.path,
      namespace,
      port,
      uiPort: 0,
      dbFile: path.join(dir, 'temporal.sqlite'),
      log,
      freePort: opts.freePort,
    });
  // port 0: the first start picks a port, and picks again if another program takes it before the server binds it
  let running: RunningTemporal | undefined = await start(0);
  // the port the first start settled on: every restart keeps it, so the address stays right
  const port = Number(running.address.split(':').pop());
  return {
    address: running.address,
    namespace,
    async restart() {
      const pid = running?.pid;
      running = undefined;
      if (pid) {
        process.kill(pid, 'SIGKILL');
        await exited(pid);
      }
      running = await start(port);
    },
    async stop() {
      await running?.stop();
      running = undefined;
    },
  };
}
