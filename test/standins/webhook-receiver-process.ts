// A company's webhook receiver in a process of its own, so a benchmark's sender does not share its event loop.
// Run directly it serves the receiver plus a control API; imported, it starts and reads such a process.
import { spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReceiver } from '../support/webhook-receiver';

const CONTROL = '/_receiver';

export interface ReceiverCounts {
  received: number;
  verified: number;
  /** distinct X-Herald-Delivery values: fewer than received means some event came twice */
  distinct: number;
}

export interface WebhookReceiverProcess {
  url(path: string): string;
  counts(): Promise<ReceiverCounts>;
  close(): Promise<void>;
}

async function serve(): Promise<void> {
  const receiver = await startReceiver(process.env.WEBHOOK_RECEIVER_SECRET ?? '');
  const control = http.createServer((req, res) => {
    if (req.url !== `${CONTROL}/counts`) {
      res.writeHead(404).end();
      return;
    }
    const got = receiver.received;
    const counts: ReceiverCounts = {
      received: got.length,
      verified: got.filter((r) => r.verified.ok).length,
      distinct: new Set(got.map((r) => r.headers['x-herald-delivery'])).size,
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(counts));
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  const port = (control.address() as { port: number }).port;
  process.stdout.write(
    JSON.stringify({ base: receiver.url(''), control: `http://127.0.0.1:${port}` }) + '\n',
  );
}

export async function startWebhookReceiverProcess(secret: string): Promise<WebhookReceiverProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    cwd: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'),
    env: { ...process.env, WEBHOOK_RECEIVER_SECRET: secret, WEBHOOK_RECEIVER_SERVE: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = await new Promise<{ base: string; control: string }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve(JSON.parse(line) as { base: string; control: string });
    });
    child.once('exit', (code) => reject(new Error(`the webhook receiver exited with code ${code}`)));
  });
  child.removeAllListeners('exit');
  return {
    url: (p) => `${ready.base}${p}`,
    counts: async () => (await (await fetch(`${ready.control}${CONTROL}/counts`)).json()) as ReceiverCounts,
    close: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

if (process.env.WEBHOOK_RECEIVER_SERVE === '1') await serve();
