// The aws-ses-v2-local emulator on a free port, behind a recorder that keeps the exact SES v2 requests it received.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import sesLocalModule from 'aws-ses-v2-local';
import { freePort } from '../../lib/runtime/ports';

export interface SesRequest {
  method: string;
  path: string;
  /** the parsed JSON body exactly as the SDK sent it */
  body: Record<string, unknown>;
  authorization: string | undefined;
  arrivedAt: number;
}

/** What the emulator stored, from its GET /store API. */
export interface StoredEmail {
  messageId: string;
  from: string;
  replyTo: string[];
  destination: { to: string[]; cc: string[]; bcc: string[] };
  subject: string;
  body: { html?: string; text?: string };
  headers?: { name: string; value: string }[];
}

export interface SesStandin {
  url: string;
  requests: SesRequest[];
  /** answer the next `times` SendEmail calls with this error instead of forwarding them */
  script: { status: number; type: string; times: number }[];
  emails(): Promise<StoredEmail[]>;
  close(): Promise<void>;
}

type StartEmulator = (config?: { host?: string; port?: number }) => Promise<http.Server>;
// a CommonJS module with __esModule: Node's ESM loader hands over module.exports as the default
const startEmulator = ((sesLocalModule as unknown as { default?: StartEmulator }).default ??
  sesLocalModule) as unknown as StartEmulator;

export async function startSesStandin(): Promise<SesStandin> {
  const emulatorPort = await freePort();
  const emulator = await startEmulator({ host: '127.0.0.1', port: emulatorPort });
  const requests: SesRequest[] = [];
  const script: SesStandin['script'] = [];

  const recorder = http.createServer((req, res) => {
    const arrivedAt = performance.timeOrigin + performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      let body: Record<string, unknown> = {};
      try {
        body = raw.length ? (JSON.parse(raw.toString()) as Record<string, unknown>) : {};
      } catch {
        body = { raw: raw.toString() };
      }
      requests.push({
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        body,
        authorization: req.headers.authorization,
        arrivedAt,
      });
      const failure = req.url === '/v2/email/outbound-emails' ? script.find((s) => s.times > 0) : undefined;
      if (failure) {
        failure.times--;
        res.writeHead(failure.status, {
          'content-type': 'application/json',
          'x-amzn-errortype': failure.type,
        });
        res.end(JSON.stringify({ message: `scripted ${failure.type}` }));
        return;
      }
      const forward = http.request(
        { host: '127.0.0.1', port: emulatorPort, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      forward.on('error', (err) => {
        res.writeHead(502);
        res.end(String(err));
      });
      forward.end(raw);
    });
  });
  await new Promise<void>((resolve) => recorder.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(recorder.address() as AddressInfo).port}`;

  return {
    url,
    requests,
    script,
    emails: async () => {
      const store = (await (await fetch(`http://127.0.0.1:${emulatorPort}/store`)).json()) as {
        emails: StoredEmail[];
      };
      return store.emails;
    },
    close: async () => {
      await new Promise<void>((resolve) => recorder.close(() => resolve()));
      await new Promise<void>((resolve) => emulator.close(() => resolve()));
    },
  };
}
