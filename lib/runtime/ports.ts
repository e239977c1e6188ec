// Finds free loopback ports, explains a taken one, and starts a server again when one it picked is taken.
import net from 'node:net';
import type { Logger } from '../log';

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

/** A server could not bind `port`: another program holds it. */
export class PortInUseError extends Error {
  constructor(
    readonly port: number,
    message: string,
  ) {
    super(message);
    this.name = 'PortInUseError';
  }
}

/** The port a Go server (the Temporal CLI, versitygw) says it could not bind, if that is why it stopped. */
export function portInUseByGoOutput(output: string): number | undefined {
  const taken = /listen tcp [^\s]+:(\d+): bind: address already in use/.exec(output);
  return taken ? Number(taken[1]) : undefined;
}

/** Starts made when ports picked at random keep being taken before the server binds them. */
const STARTS_ON_TAKEN_PORTS = 3;

/**
 * Starts a server on the ports `ports` gives, configured ones as configured and the others picked.
 * A port picked at random is free when picked, but another program (a connection's local port,
 * another test's server) can take it before the server binds it: then the ports are picked again,
 * up to three starts. A configured port is never replaced: its PortInUseError is thrown.
 */
export async function startOnPickedPorts<P, T>(opts: {
  /** the server, as the warning names it */
  what: string;
  log: Logger;
  /** the ports the operator set (0: none) */
  configured: number[];
  ports: () => Promise<P>;
  /** throws PortInUseError when the server could not bind one of its ports */
  start: (ports: P) => Promise<T>;
}): Promise<T> {
  for (let start = 1; ; start += 1) {
    const ports = await opts.ports();
    try {
      return await opts.start(ports);
    } catch (error) {
      const configured = error instanceof PortInUseError && opts.configured.includes(error.port);
      if (!(error instanceof PortInUseError) || configured || start >= STARTS_ON_TAKEN_PORTS) throw error;
      opts.log.warn(
        { port: error.port },
        `a port picked for ${opts.what} was taken before it started; picking again`,
      );
    }
  }
}
