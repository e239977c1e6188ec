// A pass-through in front of a real S3 server that records every request's method, path and headers.
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedS3Request {
  method: string;
  /** path and query, as sent */
  url: string;
  headers: IncomingHttpHeaders;
}

export interface S3Recorder {
  /** what clients use as S3_ENDPOINT */
  url: string;
  requests: RecordedS3Request[];
  close(): Promise<void>;
}

/**
 * Forwards each request as it came (the Host header too, so signatures still verify) to `target`, and
 * the answer back, byte for byte.
 */
export async function startS3Recorder(target: string): Promise<S3Recorder> {
  const upstream = new URL(target);
  const requests: RecordedS3Request[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '/', headers: req.headers });
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (err) => res.destroy(err));
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
