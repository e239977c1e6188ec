// A company's HTTP(S) export endpoint for API-source tests: scripted answers per path, every request recorded.
import http, { type IncomingHttpHeaders, type IncomingMessage, type RequestListener } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { closedGate, type Gate } from './gate';

export interface FeedAnswer {
  status?: number;
  contentType?: string;
  body: string | Buffer;
  /** sent as ETag; a Range request's If-Range must name it */
  etag?: string;
  /** advertise `Accept-Ranges: bytes` and answer `Range: bytes=N-` with 206 */
  ranges?: boolean;
  /** send `body` over and over, chunked and without a length, until the client hangs up */
  endless?: boolean;
  /** sent as Location (with a 3xx status) */
  location?: string;
}

export interface HttpFeed {
  url: string;
  /** what each path answers; a list is answered in turn, its last entry from then on */
  routes: Map<string, FeedAnswer | FeedAnswer[]>;
  requests: { path: string; headers: IncomingHttpHeaders }[];
  /** answers stop after byte `from` of the body, the connection kept open, until `release()` */
  hold(from: number): void;
  release(): void;
  /** drops the connections of the held answers instead of finishing them: the client sees them break off */
  cut(): void;
  close(): Promise<void>;
}

/** The byte a `Range: bytes=N-` request asks to start at, when it may be served as a range. */
function rangeStart(req: IncomingMessage, answer: FeedAnswer): number | undefined {
  const match = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  if (!answer.ranges || !match) return undefined;
  const ifRange = req.headers['if-range'];
  if (ifRange !== undefined && ifRange !== answer.etag) return undefined;
  return Number(match[1]);
}

export async function startHttpFeed(tls?: { key: string; cert: string }): Promise<HttpFeed> {
  const routes = new Map<string, FeedAnswer | FeedAnswer[]>();
  const requests: HttpFeed['requests'] = [];
  let held: (Gate & { from: number; cut?: boolean }) | undefined;
  const handler: RequestListener = async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://feed');
    requests.push({ path: url.pathname + url.search, headers: req.headers });
    const route = routes.get(url.pathname);
    const answer = Array.isArray(route) ? (route.length > 1 ? route.shift()! : route[0]!) : route;
    if (!answer) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = Buffer.from(answer.body);
    if (answer.endless) {
      res.writeHead(answer.status ?? 200, answer.contentType ? { 'content-type': answer.contentType } : {});
      while (!res.destroyed) {
        if (!res.write(body))
          await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
      }
      return;
    }
    const start = rangeStart(req, answer);
    const headers: Record<string, string | number> = { 'content-length': body.length - (start ?? 0) };
    if (answer.contentType) headers['content-type'] = answer.contentType;
    if (answer.etag) headers.etag = answer.etag;
    if (answer.location) headers.location = answer.location;
    if (answer.ranges) headers['accept-ranges'] = 'bytes';
    if (start !== undefined) headers['content-range'] = `bytes ${start}-${body.length - 1}/${body.length}`;
    res.writeHead(start !== undefined ? 206 : (answer.status ?? 200), headers);
    const from = start ?? 0;
    const hold = held;
    if (hold && hold.from > from) {
      res.write(body.subarray(from, hold.from));
      await hold.opened;
      if (hold.cut) res.destroy();
      if (res.destroyed) return;
      res.end(body.subarray(hold.from));
    } else res.end(body.subarray(from));
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const release = () => {
    held?.open();
    held = undefined;
  };
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    routes,
    requests,
    hold(from) {
      held = { from, ...closedGate() };
    },
    release,
    cut() {
      if (held) held.cut = true;
      release();
    },
    close: () =>
      new Promise<void>((resolve) => {
        held?.open();
        server.close(() => resolve());
      }),
  };
}
