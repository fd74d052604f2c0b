import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ConnectionPool, ResponseParser, type ResponseHandler } from '../../../../src/eval/perf/http1.js';

/** What a parser reported, in order. */
function recorder(): { handler: ResponseHandler; events: string[]; body: () => string } {
  const events: string[] = [];
  const pieces: Buffer[] = [];
  return {
    events,
    body: () => Buffer.concat(pieces).toString('utf8'),
    handler: {
      onStatus: (status) => events.push(`status ${status}`),
      onBody: (piece) => pieces.push(Buffer.from(piece)),
      onEnd: () => events.push('end'),
      onError: (reason) => events.push(`error ${reason}`),
    },
  };
}

const CHUNKED =
  'HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n' +
  'a\r\ndata: é1\n\r\n' +
  '8;ext=1\r\ndata: 2\n\r\n' +
  '0\r\n\r\n';

describe('ResponseParser', () => {
  it('reads a chunked body however the bytes are split, even inside a character', () => {
    const whole = Buffer.from(CHUNKED);
    for (let cut = 1; cut < whole.length; cut += 1) {
      const { handler, events, body } = recorder();
      const parser = new ResponseParser(handler);
      parser.push(whole.subarray(0, cut), 1);
      parser.push(whole.subarray(cut), 2);
      expect(events).toEqual(['status 200', 'end']);
      expect(body()).toBe('data: é1\ndata: 2\n');
      expect(parser.keepAlive).toBe(true);
    }
  });

  it('reads a sized body, and one that lasts until the connection closes', () => {
    const sized = recorder();
    new ResponseParser(sized.handler).push(
      Buffer.from('HTTP/1.1 400 Bad Request\r\nContent-Length: 5\r\nConnection: close\r\n\r\nshort'),
      1,
    );
    expect(sized.events).toEqual(['status 400', 'end']);
    expect(sized.body()).toBe('short');
    const untilClose = recorder();
    const parser = new ResponseParser(untilClose.handler);
    parser.push(Buffer.from('HTTP/1.0 200 OK\r\n\r\nall of it'), 1);
    expect(untilClose.events).toEqual(['status 200']);
    parser.closed();
    expect(untilClose.events).toEqual(['status 200', 'end']);
    expect(parser.keepAlive).toBe(false);
  });

  it('fails a response cut short, a bad chunk size and what is not HTTP', () => {
    const cut = recorder();
    const parser = new ResponseParser(cut.handler);
    parser.push(Buffer.from(CHUNKED.slice(0, 60)), 1);
    parser.closed();
    expect(cut.events.at(-1)).toBe('error connection: closed before the response ended');
    const badSize = recorder();
    new ResponseParser(badSize.handler).push(
      Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'),
      1,
    );
    expect(badSize.events.at(-1)).toBe('error bad chunk size "zz"');
    const tooLong = recorder();
    new ResponseParser(tooLong.handler).push(
      Buffer.from('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n'),
      1,
    );
    expect(tooLong.events.at(-1)).toBe('error a chunk longer than its size');
    const notHttp = recorder();
    new ResponseParser(notHttp.handler).push(Buffer.from('SSH-2.0-OpenSSH\r\n\r\n'), 1);
    expect(notHttp.events).toEqual(['error not an HTTP/1.x response: "SSH-2.0-OpenSSH"']);
  });
});

let server: Server | undefined;
afterEach(() => server?.close());

describe('ConnectionPool', () => {
  it('sends prepared requests with their headers and reuses a kept-alive connection', async () => {
    const requests: string[] = [];
    let connections = 0;
    server = createServer((socket) => {
      connections += 1;
      socket.on('data', (bytes) => {
        requests.push(bytes.toString('utf8'));
        socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const pool = new ConnectionPool(new URL(`http://127.0.0.1:${port}/v1/chat/completions?x=1`), {
      authorization: 'Bearer k',
    });
    const post = (body: string) =>
      new Promise<string[]>((resolve) => {
        const { handler, events } = recorder();
        pool.post(body, { ...handler, onEnd: () => resolve([...events, 'end']) });
      });
    expect(await post('{"a":1}')).toEqual(['status 200', 'end']);
    expect(await post('{"b":"é"}')).toEqual(['status 200', 'end']);
    pool.destroy();
    expect(connections).toBe(1);
    expect(requests[0]).toBe(
      `POST /v1/chat/completions?x=1 HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n` +
        'authorization: Bearer k\r\ncontent-length: 7\r\n\r\n{"a":1}',
    );
    expect(requests[1]).toContain('content-length: 10\r\n\r\n{"b":"é"}');
  });
});
