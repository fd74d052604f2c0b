import { createServer, type Server } from 'node:net';

export interface PortReservation {
  port: number;
  /** Close our listener so vLLM can bind the port. Idempotent. */
  release(): Promise<void>;
}

/**
 * Pick a free port and hold it while evalrig prepares the start. vLLM binds only after loading, with
 * SO_REUSEPORT, which Node 20 cannot set; so the hold ends just before vLLM is spawned, and readiness
 * checks /v1/models for our served name in case someone else took the port meanwhile.
 */
export async function reservePort(host: string): Promise<PortReservation> {
  const server: Server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host, exclusive: true }, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error(`could not reserve a port on ${host}`);
  let released: Promise<void> | undefined;
  return {
    port: address.port,
    release: () => (released ??= new Promise<void>((resolve) => server.close(() => resolve()))),
  };
}

/** True when nothing listens on host:port (binding it succeeds). */
export async function portIsFree(host: string, port: number): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
