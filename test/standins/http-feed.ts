// A company's HTTP(S) export endpoint for API-source tests: scripted answers per path, every request recorded.
import http, { type IncomingHttpHeaders, type RequestListener } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';

export interface FeedAnswer {
  status?: number;
  contentType?: string;
  body: string | Buffer;
}

export interface HttpFeed {
  url: string;
  /** what each path answers; a list is answered in turn, its last entry from then on */
  routes: Map<string, FeedAnswer | FeedAnswer[]>;
  requests: { path: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

export async function startHttpFeed(tls?: { key: string; cert: string }): Promise<HttpFeed> {
  const routes = new Map<string, FeedAnswer | FeedAnswer[]>();
  const requests: HttpFeed['requests'] = [];
  const handler: RequestListener = (req, res) => {
    const url = new URL(req.url ?? '/', 'http://feed');
    requests.push({ path: url.pathname + url.search, headers: req.headers });
    const route = routes.get(url.pathname);
    const answer = Array.isArray(route) ? (route.length > 1 ? route.shift()! : route[0]!) : route;
    if (!answer) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(answer.status ?? 200, answer.contentType ? { 'content-type': answer.contentType } : {});
    res.end(answer.body);
  };
  const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    routes,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
