// A company's webhook receiver on a local port: answers as told per path and checks every signature it gets.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, verifyWebhook, type VerifyResult } from '../../lib/webhooks/signature';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  verified: VerifyResult;
}

export interface Receiver {
  url(path: string): string;
  received: Received[];
  /** the status codes to answer on `path`, in turn; the last one repeats (default 200) */
  answer(path: string, statuses: number[]): void;
  close(): Promise<void>;
}

export async function startReceiver(secret: string): Promise<Receiver> {
  const received: Received[] = [];
  const plans = new Map<string, number[]>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = req.headers[SIGNATURE_HEADER.toLowerCase()] as string | undefined;
      received.push({
        path: req.url ?? '/',
        headers: req.headers,
        body,
        verified: verifyWebhook(header, body, secret),
      });
      const plan = plans.get(req.url ?? '/') ?? [200];
      const status = plan.length > 1 ? plan.shift()! : plan[0]!;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status < 300 ? 'thanks' : `no (${status})`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path) => `http://127.0.0.1:${port}${path}`,
    received,
    answer: (path, statuses) => plans.set(path, [...statuses]),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
