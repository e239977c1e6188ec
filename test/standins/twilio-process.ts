// The Twilio stand-in in a process of its own, so arrival times are not skewed by the sender's event loop.
// Run directly it serves the stand-in plus a control API; imported, it starts and drives such a process.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startTwilioStandin, type RecordedRequest, type ScriptedFailure, type TwilioStandin } from './twilio';

const CONTROL = '/_standin';

export type StandinBehaviour = Partial<
  Pick<TwilioStandin, 'answerDelayMs' | 'hangCreates' | 'rateLimitPerSecond'>
>;

export interface TwilioStandinProcess {
  url: string;
  accountSid: string;
  authToken: string;
  /** requests recorded since index `from` (form payloads included) */
  requests(from?: number): Promise<RecordedRequest[]>;
  /** arrival times (epoch ms) and senders of accepted creates, compact enough for 100k messages */
  arrivals(): Promise<{ at: number[]; from: string[] }>;
  script(failure: ScriptedFailure): Promise<void>;
  /** how the vendor behaves from now on: slow or hanging answers, a rate above which it answers 429 */
  behave(how: StandinBehaviour): Promise<void>;
  /** the stand-in's event-loop delay since the last call: how much its arrival stamps may be bunched */
  lag(): Promise<{ maxMs: number; p99Ms: number }>;
  close(): Promise<void>;
}

async function serve(): Promise<void> {
  const standin = await startTwilioStandin({ lean: process.env.TWILIO_STANDIN_LEAN === '1' });
  // how late this process handled requests: a starved stand-in stamps a backlog of arrivals at once
  const lag = monitorEventLoopDelay({ resolution: 5 });
  lag.enable();
  const control = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://control');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (url.pathname === `${CONTROL}/requests`) {
        res.end(JSON.stringify(standin.requests.slice(Number(url.searchParams.get('from') ?? 0))));
      } else if (url.pathname === `${CONTROL}/arrivals`) {
        res.end(JSON.stringify(standin.arrivals));
      } else if (url.pathname === `${CONTROL}/lag`) {
        res.end(JSON.stringify({ maxMs: lag.max / 1e6, p99Ms: lag.percentile(99) / 1e6 }));
        lag.reset();
      } else if (url.pathname === `${CONTROL}/behave`) {
        const how = JSON.parse(Buffer.concat(chunks).toString()) as StandinBehaviour;
        // JSON has no undefined: null switches a behaviour off
        for (const [key, value] of Object.entries(how))
          Object.assign(standin, { [key]: value === null ? undefined : value });
        res.end('{}');
      } else if (url.pathname === `${CONTROL}/script`) {
        standin.script.push(JSON.parse(Buffer.concat(chunks).toString()) as ScriptedFailure);
        res.end('{}');
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  const port = (control.address() as { port: number }).port;
  process.stdout.write(
    JSON.stringify({
      url: standin.url,
      control: `http://127.0.0.1:${port}`,
      accountSid: standin.accountSid,
      authToken: standin.authToken,
    }) + '\n',
  );
}

export async function startTwilioStandinProcess(
  opts: { lean?: boolean } = {},
): Promise<TwilioStandinProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url)], {
    cwd: path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..'),
    env: { ...process.env, TWILIO_STANDIN_LEAN: opts.lean ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  // the vendor's clock is not starved by our load: on a busy machine the stand-in gets the CPU first
  // (where raising priority is not allowed, it simply runs at normal priority)
  try {
    os.setPriority(child.pid!, -10);
  } catch {
    /* not permitted here */
  }
  const info = await new Promise<{ url: string; control: string; accountSid: string; authToken: string }>(
    (resolve, reject) => {
      let buffered = '';
      child.stdout!.on('data', (c: Buffer) => {
        buffered += c.toString();
        const line = buffered.split('\n')[0];
        if (buffered.includes('\n') && line) resolve(JSON.parse(line) as never);
      });
      child.once('exit', (code) => reject(new Error(`the Twilio stand-in exited with code ${code}`)));
    },
  );
  const get = async <T>(p: string) => (await (await fetch(`${info.control}${CONTROL}${p}`)).json()) as T;
  return {
    url: info.url,
    accountSid: info.accountSid,
    authToken: info.authToken,
    requests: (from = 0) => get(`/requests?from=${from}`),
    arrivals: () => get('/arrivals'),
    lag: () => get('/lag'),
    behave: async (how) => {
      await fetch(`${info.control}${CONTROL}/behave`, {
        method: 'POST',
        body: JSON.stringify(how, (_k, v: unknown) => (v === undefined ? null : v)),
      });
    },
    script: async (failure) => {
      await fetch(`${info.control}${CONTROL}/script`, { method: 'POST', body: JSON.stringify(failure) });
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await serve();
