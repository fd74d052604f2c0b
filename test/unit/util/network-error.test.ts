import { createServer, type Server } from 'node:http';
import { describe, expect, it } from 'vitest';
import { findFreePort } from '../../../src/util/ports.js';
import { describeNetworkError } from '../../../src/util/network-error.js';

async function failureOf(url: string, timeoutMs: number): Promise<unknown> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.text();
  } catch (error) {
    return error;
  }
  throw new Error(`${url} answered`);
}

describe('describeNetworkError', () => {
  it('names the code of the cause when nothing listens', async () => {
    const port = await findFreePort('127.0.0.1');
    const error = await failureOf(`http://127.0.0.1:${port}/`, 2_000);
    expect(describeNetworkError(error, 2_000)).toBe('network error: fetch failed (ECONNREFUSED)');
  });

  it('names the time limit when the server stalls, before or after its headers', async () => {
    const server: Server = createServer((request, response) => {
      if (request.url === '/body') response.writeHead(200, { 'content-length': '10' }).write('12345');
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    const { port } = server.address() as { port: number };
    try {
      for (const path of ['/headers', '/body']) {
        const error = await failureOf(`http://127.0.0.1:${port}${path}`, 200);
        expect(describeNetworkError(error, 200)).toBe('no answer within 0.2 s');
      }
    } finally {
      server.closeAllConnections();
      await new Promise((closed) => server.close(closed));
    }
  });

  it('says what was thrown when it is not an Error', () => {
    expect(describeNetworkError('socket hang up', 1_000)).toBe('network error: socket hang up');
  });
});
