import { createServer, type Server } from 'node:net';
import { describe, expect, it } from 'vitest';
import { findFreePort, portIsFree, probePort } from '../../../src/util/ports.js';

describe('ports', () => {
  it('findFreePort gives a port nothing listens on, which can then be bound', async () => {
    const port = await findFreePort('127.0.0.1');
    expect(port).toBeGreaterThan(0);
    expect(await portIsFree('127.0.0.1', port)).toBe(true);
    const server: Server = createServer();
    await new Promise<void>((listening) =>
      server.listen({ port, host: '127.0.0.1', exclusive: true }, listening),
    );
    try {
      expect(await probePort('127.0.0.1', port)).toEqual({
        host: '127.0.0.1',
        port,
        status: 'in-use',
        detail: 'EADDRINUSE',
      });
      expect(await portIsFree('127.0.0.1', port)).toBe(false);
    } finally {
      await new Promise<void>((closed) => server.close(() => closed()));
    }
  });

  it('findFreePort never hands out one port twice, though servers started at once bind it only later', async () => {
    // Each port is let go before the next pick, as before a server binds it: of some 28 000 ephemeral ports the
    // kernel picks at random, 400 picks repeat one almost surely.
    const ports: number[] = [];
    for (let pick = 0; pick < 400; pick++) ports.push(await findFreePort('127.0.0.1'));
    expect(new Set(ports).size).toBe(ports.length);
  });

  it('probePort: an address that is not this machine is unavailable', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a local interface.
    expect(await probePort('192.0.2.1', 8000)).toMatchObject({
      status: 'unavailable',
      detail: 'EADDRNOTAVAIL',
    });
  });
});
