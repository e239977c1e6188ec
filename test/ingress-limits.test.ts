// What a client may hold of the ingress: slow or idle sockets are closed, connections are capped,
// and a made-up unsubscribe link is a plain "not found".
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../lib/app';
import { INGRESS_PATHS } from '../lib/names';
import { openTestApp } from './support/harness';
import { startTestIngress, type TestIngress } from './support/ingress';

let app: App;
// one limit at a time: short timeouts with room for connections, and a cap with timeouts too long
// to close anything while a test looks
let quick: TestIngress;
let capped: TestIngress;

beforeAll(async () => {
  app = await openTestApp();
  quick = await startTestIngress(app, { maxConnections: 1000, requestTimeoutMs: 1_000 });
  capped = await startTestIngress(app, { maxConnections: 3, requestTimeoutMs: 600_000 });
});
afterAll(async () => {
  await quick?.close();
  await capped?.close();
  await app?.close();
});

interface Connection {
  socket: net.Socket;
  /** resolves when the server hangs up */
  closed: Promise<void>;
}

async function connect(to: TestIngress): Promise<Connection> {
  const { port } = new URL(to.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => {});
  await new Promise((resolve) => socket.once('connect', resolve));
  return { socket, closed };
}

const within = <T>(promise: Promise<T>, ms: number) =>
  Promise.race([
    promise.then(() => 'closed' as const),
    new Promise<'still open'>((resolve) => setTimeout(() => resolve('still open'), ms)),
  ]);

describe('the ingress', () => {
  it('closes a client that sends its headers slowly, or nothing at all', async () => {
    const slow = await connect(quick);
    slow.socket.write(`POST ${INGRESS_PATHS.twilioSmsStatus} HTTP/1.1\r\nHost: ingress\r\n`);
    const idle = await connect(quick);
    // Node's own defaults would keep them for a minute (headers) or five (request)
    expect(await within(slow.closed, 10_000)).toBe('closed');
    expect(await within(idle.closed, 10_000)).toBe('closed');
  });

  it('drops connections past its cap, and serves again once they go', async () => {
    const held = await Promise.all([connect(capped), connect(capped), connect(capped)]);
    const extra = await connect(capped);
    expect(await within(extra.closed, 10_000)).toBe('closed');
    // the ones within the cap are kept: only the extra one was refused
    expect(held.map((c) => c.socket.destroyed)).toEqual([false, false, false]);
    for (const c of held) c.socket.destroy();
    await Promise.all(held.map((c) => c.closed));
    // the server counts the freed connections when it sees them go: ask until it has
    await expect
      .poll(async () => (await fetch(`${capped.url}/healthz`).catch(() => undefined))?.status, {
        timeout: 10_000,
      })
      .toBe(200);
  });

  it('answers an unsubscribe link with a malformed % escape as not found, not as an error', async () => {
    for (const token of ['%E0%A4%A', '%zz', 'abc%']) {
      const answer = await fetch(`${quick.url}${INGRESS_PATHS.emailUnsubscribe}/${token}`);
      expect(answer.status, token).toBe(404);
      expect(await answer.text()).toContain('This link is not valid');
    }
  });
});
