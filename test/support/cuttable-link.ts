// A TCP link between a process and a server that a test can cut and mend. Cut, its connections drop
// (so the server gives nothing more to requests it held open) and new ones are taken but go nowhere
// until it is mended: a process that lost its way to the server, while the rest of its network works.
import net from 'node:net';

export interface CuttableLink {
  /** host:port to give the process instead of the server's */
  address: string;
  cut(): void;
  mend(): void;
  close(): Promise<void>;
}

export async function startCuttableLink(target: string): Promise<CuttableLink> {
  const at = target.lastIndexOf(':');
  const host = target.slice(0, at);
  const port = Number(target.slice(at + 1));
  let isCut = false;
  const sockets = new Set<net.Socket>();
  /** connections taken while cut: joined to the server once mended */
  const waiting: (() => void)[] = [];

  const track = (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => s.destroy());
  };
  const join = (client: net.Socket) => {
    if (client.destroyed) return;
    const upstream = net.connect(port, host);
    track(upstream);
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const server = net.createServer((client) => {
    track(client);
    // nothing read while it waits: its bytes stay in its buffers, as on a stalled path
    client.pause();
    if (isCut) waiting.push(() => join(client));
    else join(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as net.AddressInfo).port}`,
    cut: () => {
      isCut = true;
      for (const s of sockets) s.destroy();
    },
    mend: () => {
      isCut = false;
      for (const joinIt of waiting.splice(0)) joinIt();
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
