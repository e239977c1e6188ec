// Finds free loopback ports and explains a taken one.
import net from 'node:net';

export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

export class PortTakenError extends Error {
  constructor(port: number, what: string, variable: string) {
    super(
      `Port ${port} for ${what} is already taken by another program. ` +
        `Stop that program, or set ${variable} to a free port (0 picks one at random).`,
    );
    this.name = 'PortTakenError';
  }
}

/** `requested` 0 means any free port. */
export async function choosePort(requested: number, what: string, variable: string): Promise<number> {
  if (requested === 0) return freePort();
  if (!(await isPortFree(requested))) throw new PortTakenError(requested, what, variable);
  return requested;
}
