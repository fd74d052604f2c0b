import { createServer } from 'node:net';

/**
 * A port that is free on `host` now, for `server.port: auto`. It is not held until vLLM binds it, and cannot be:
 * vLLM binds its port only after loading the model (minutes), with SO_REUSEPORT, which Node 20 cannot set; a
 * listener of ours would make vLLM's bind fail, so ours must be closed before vLLM is spawned anyway. Someone else
 * may take the port in between: readiness therefore checks that /v1/models lists our served name, not merely that
 * something answers on the port.
 */
export async function findFreePort(host: string): Promise<number> {
  // Servers started at once (a parallel matrix) each bind late: one port must not be handed to two of them.
  for (;;) {
    const port = await unusedPort(host);
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
}

/** Ports findFreePort gave out in this process. */
const handedOut = new Set<number>();

async function unusedPort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string')
    throw new Error(`could not find a free port on ${host}`);
  return address.port;
}

export interface PortProbe {
  host: string;
  port: number;
  /** `denied`: a privileged port (EACCES); `unavailable`: not an address of this machine (EADDRNOTAVAIL, …). */
  status: 'free' | 'in-use' | 'denied' | 'unavailable';
  /** The error code, or `bound and released`. */
  detail: string;
}

/** Binds host:port the way vLLM will (exclusively) and lets it go again, saying why when that fails. */
export function probePort(host: string, port: number): Promise<PortProbe> {
  return new Promise((settle) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      const status =
        error.code === 'EADDRINUSE' ? 'in-use' : error.code === 'EACCES' ? 'denied' : 'unavailable';
      settle({ host, port, status, detail: error.code ?? error.message });
    });
    server.listen({ host, port, exclusive: true }, () => {
      server.close(() => settle({ host, port, status: 'free', detail: 'bound and released' }));
    });
  });
}

/** True when nothing listens on host:port (binding it succeeds). */
export async function portIsFree(host: string, port: number): Promise<boolean> {
  return (await probePort(host, port)).status === 'free';
}

/** The URL a client on this host uses: a wildcard bind address is reached through loopback. */
export function clientUrl(bindHost: string, port: number): string {
  const host = bindHost === '0.0.0.0' ? '127.0.0.1' : bindHost === '::' ? '::1' : bindHost;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
