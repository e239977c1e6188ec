// The operations endpoint of a worker or the ingress: /metrics for Prometheus, /livez and /readyz for
// orchestrators (the compose healthchecks use /readyz).
import http from 'node:http';
import type { Logger } from '../log';

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

export interface OpsServerOptions {
  port: number;
  host: string;
  log: Logger;
  /** herald's own metrics */
  metrics: () => Promise<string>;
  /** where the Temporal SDK's Prometheus exporter of this process listens, if it has one */
  sdkMetricsUrl?: string;
  /** undefined when ready; otherwise why not */
  notReady: () => Promise<string | undefined>;
}

export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return reply(405, 'GET only\n');
    // alive as long as the event loop answers: an orchestrator restarts a process that stops answering
    if (path === '/livez') return reply(200, 'ok\n');
    if (path === '/readyz') {
      void opts
        .notReady()
        .catch((err: Error) => `readiness check failed: ${err.message}`)
        .then((why) => (why ? reply(503, `not ready: ${why}\n`) : reply(200, 'ready\n')));
      return;
    }
    if (path === '/metrics') {
      void Promise.all([opts.metrics(), sdkMetrics(opts.sdkMetricsUrl)])
        .then(([own, sdk]) => reply(200, own + sdk, 'text/plain; version=0.0.4; charset=utf-8'))
        .catch((err: Error) => {
          opts.log.warn({ err }, 'metrics scrape failed');
          reply(500, `metrics unavailable: ${err.message}\n`);
        });
      return;
    }
    reply(404, 'not found: /metrics, /livez, /readyz\n');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(`OPS_PORT ${opts.port} is already taken; set OPS_PORT to a free port (0 picks one)`)
          : err,
      ),
    );
    server.listen(opts.port, opts.host, resolve);
  });
  const port = (server.address() as { port: number }).port;
  opts.log.debug({ port }, 'ops endpoint listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function sdkMetrics(url: string | undefined): Promise<string> {
  if (!url) return '';
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`the Temporal SDK's exporter answered ${res.status}`);
  return await res.text();
}
