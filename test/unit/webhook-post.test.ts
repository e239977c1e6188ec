// One attempt's POST against a real HTTP server on a local port: how each kind of answer is classified and kept.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postDelivery, type DeliveryToSend } from '../../lib/webhooks/deliver';
import { verifyWebhook } from '../../lib/webhooks/signature';

const SECRET_ENV = 'HERALD_SECRET_UNIT_WEBHOOK';
const secret = 'whsec_unit';
const secrets = { env: { [SECRET_ENV]: secret }, prefixes: ['HERALD_SECRET_'] };
const hits: { path: string; body: string; signature: string | undefined }[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits.push({ path: req.url ?? '', body, signature: req.headers['x-herald-signature'] as string });
      if (req.url === '/moved') res.writeHead(302, { location: `${base}/elsewhere` }).end();
      else if (req.url === '/busy') res.writeHead(429, { 'retry-after': '7' }).end('slow down');
      else if (req.url === '/long') res.writeHead(500).end('x'.repeat(5000));
      else res.writeHead(200).end('thanks');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const delivery = (path: string): DeliveryToSend => ({
  id: 1,
  uuid: '5b0f4a4e-8a43-4c1e-9d0a-2f8f0c6a1b2c',
  company_id: 1,
  event: 'message.sent',
  payload: { messageId: 'm-1', status: 'sent' },
  created_at: new Date('2026-12-06T12:00:00Z'),
  url: `${base}${path}`,
  secret_env: SECRET_ENV,
  active: true,
  alias: 'unit-clinic',
});

describe('a webhook attempt', () => {
  it('is delivered on 2xx, with a body the receiver can verify', async () => {
    const a = await postDelivery(delivery('/ok'), 1, 5000, secrets);
    expect(a).toMatchObject({ outcome: 'delivered', statusCode: 200, error: null, responseBody: 'thanks' });
    const hit = hits.find((h) => h.path === '/ok')!;
    expect(verifyWebhook(hit.signature, hit.body, secret).ok).toBe(true);
    expect(JSON.parse(hit.body)).toMatchObject({ id: delivery('/ok').uuid, company: 'unit-clinic' });
  });

  it('ends at a redirect without following it, so a signed body goes nowhere else', async () => {
    const a = await postDelivery(delivery('/moved'), 1, 5000, secrets);
    expect(a).toMatchObject({
      outcome: 'permanent',
      statusCode: 302,
      error: 'the endpoint answered 302 Found',
    });
    expect(hits.filter((h) => h.path === '/elsewhere')).toHaveLength(0);
  });

  it('is retried after what Retry-After asks on a 429', async () => {
    const a = await postDelivery(delivery('/busy'), 2, 5000, secrets);
    expect(a).toMatchObject({ outcome: 'retry', statusCode: 429, retryAfterMs: 7000, attempt: 2 });
    expect(a.error).toBe('the endpoint answered 429 Too Many Requests');
  });

  it('keeps the first 1,000 characters of an answer', async () => {
    const a = await postDelivery(delivery('/long'), 1, 5000, secrets);
    expect(a).toMatchObject({ outcome: 'retry', statusCode: 500 });
    expect(a.responseBody).toHaveLength(1000);
  });

  it('is retried when nothing listens, naming the network error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const a = await postDelivery({ ...delivery(''), url: `http://127.0.0.1:${port}/` }, 1, 5000, secrets);
    expect(a).toMatchObject({ outcome: 'retry', statusCode: null });
    expect(a.error).toContain('ECONNREFUSED');
  });
});
