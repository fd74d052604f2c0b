import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Connections, type ResponseHandler } from '../../../../src/eval/perf/connections.js';
import { findFreePort } from '../../../../src/util/ports.js';

const servers: Server[] = [];
const pools: Connections[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
  for (const server of servers.splice(0)) server.close();
});

async function listen(server: Server): Promise<URL> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return new URL(`http://127.0.0.1:${port}/v1/chat/completions?x=1`);
}

function httpServer(handle: (request: IncomingMessage, response: ServerResponse) => void): Promise<URL> {
  return listen(createHttpServer(handle));
}

function connections(url: URL, headers: Record<string, string> = {}, count = 2): Connections {
  const pool = new Connections(url, headers, count);
  pools.push(pool);
  return pool;
}

interface Heard {
  events: string[];
  body: string;
  stamps: number[];
}

/** Posts one body and resolves with what the handler heard once the response ended or failed. */
function post(pool: Connections, body: string): Promise<Heard> {
  return new Promise((resolve) => {
    const heard: Heard = { events: [], body: '', stamps: [] };
    const pieces: Buffer[] = [];
    const done = (event: string): void => {
      heard.events.push(event);
      heard.body = Buffer.concat(pieces).toString('utf8');
      resolve(heard);
    };
    const handler: ResponseHandler = {
      onStatus: (status) => heard.events.push(`status ${status}`),
      onBody: (piece, arrivedMs) => {
        pieces.push(Buffer.from(piece));
        heard.stamps.push(arrivedMs);
      },
      onEnd: () => done('end'),
      onError: (reason) => done(`error ${reason}`),
    };
    pool.post(body, handler);
  });
}

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Connections', () => {
  it('sends the body with its headers and reuses a kept-alive connection', async () => {
    const requests: { url?: string; headers: IncomingMessage['headers']; body: string }[] = [];
    const sockets = new Set<unknown>();
    const url = await httpServer((request, response) => {
      sockets.add(request.socket);
      let body = '';
      request.setEncoding('utf8');
      request.on('data', (text: string) => (body += text));
      request.on('end', () => {
        requests.push({ url: request.url, headers: request.headers, body });
        response.end('ok');
      });
    });
    const pool = connections(url, { authorization: 'Bearer k' }, 1);
    expect(await post(pool, '{"a":1}')).toMatchObject({ events: ['status 200', 'end'], body: 'ok' });
    expect(await post(pool, '{"b":"é"}')).toMatchObject({ events: ['status 200', 'end'], body: 'ok' });
    expect(sockets.size).toBe(1);
    expect(requests.map(({ url, body }) => [url, body])).toEqual([
      ['/v1/chat/completions?x=1', '{"a":1}'],
      ['/v1/chat/completions?x=1', '{"b":"é"}'],
    ]);
    expect(requests[1]?.headers).toMatchObject({
      authorization: 'Bearer k',
      'content-type': 'application/json',
      'content-length': '10',
    });
  });

  it('hands on a chunked body written in awkward pieces, each stamped as it arrives', async () => {
    // Split inside a line, inside a two-byte character, and between the CR and LF of the chunk framing.
    const text = 'data: é1\n\ndata: 2\n\n';
    const bytes = Buffer.from(text);
    const url = await httpServer((_request, response) => {
      void (async () => {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const [from, to] of [
          [0, 3],
          [3, 8],
          [8, 13],
          [13, bytes.length],
        ] as const) {
          response.write(bytes.subarray(from, to));
          await tick(50);
        }
        response.end();
      })();
    });
    const heard = await post(connections(url), '{}');
    expect(heard.events).toEqual(['status 200', 'end']);
    expect(heard.body).toBe(text);
    expect(heard.stamps.length).toBe(4);
    // Each piece carries the time it arrived, 50 ms apart as written, not the time the response ended.
    const gaps = heard.stamps.slice(1).map((stamp, index) => stamp - (heard.stamps[index] ?? 0));
    for (const gap of gaps) expect(gap).toBeGreaterThan(25);
  });

  it('hands on chunk framing however the connection splits it', async () => {
    const response =
      'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n' +
      'a\r\ndata: é1\n\r\n' +
      '8;ext=1\r\ndata: 2\n\r\n' +
      '0\r\n\r\n';
    const whole = Buffer.from(response);
    const head = response.indexOf('\r\n\r\n') + 4;
    let cut = 0;
    const url = await listen(
      createNetServer((socket) => {
        socket.on('data', () => {
          socket.write(whole.subarray(0, cut));
          setTimeout(() => socket.write(whole.subarray(cut)), 2);
        });
      }),
    );
    const pool = connections(url, {}, 1);
    for (cut = head - 2; cut < whole.length; cut += 1) {
      const heard = await post(pool, '{}');
      expect(heard.events).toEqual(['status 200', 'end']);
      expect(heard.body).toBe('data: é1\ndata: 2\n');
    }
  });

  it('fails a response cut off mid-stream, and a refused connection', async () => {
    const url = await httpServer((request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: {"choices":[{}]}\n\n');
      setTimeout(() => request.socket.destroy(), 10);
    });
    const cut = await post(connections(url), '{}');
    expect(cut.body).toBe('data: {"choices":[{}]}\n\n');
    expect(cut.events).toEqual(['status 200', 'error connection: closed before the response ended']);
    const closedPort = await findFreePort('127.0.0.1');
    const refused = await post(connections(new URL(`http://127.0.0.1:${closedPort}/v1`)), '{}');
    expect(refused.events).toEqual(['error connection: ECONNREFUSED']);
  });

  it('closes the connection of a cancelled exchange, and every connection on close', async () => {
    const closed: string[] = [];
    const url = await httpServer((request, response) => {
      request.socket.once('close', () => closed.push(request.url ?? ''));
      response.writeHead(200);
      response.write('started');
    });
    const pool = connections(url);
    const heard: string[] = [];
    const exchange = pool.post('{}', {
      onStatus: () => undefined,
      onBody: () => exchange.cancel(),
      onEnd: () => heard.push('end'),
      onError: (reason) => heard.push(reason),
    });
    await expect.poll(() => closed.length).toBe(1);
    // A cancelled exchange is over for its caller: it hears nothing more.
    expect(heard).toEqual([]);
    void post(pool, '{}');
    await tick(50);
    await pool.close();
    await expect.poll(() => closed.length).toBe(2);
  });
});
