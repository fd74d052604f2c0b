import net from 'node:net';
import tls from 'node:tls';

/**
 * Keep-alive HTTP/1.1 connections to one server, for streamed POSTs: each request is written as prepared bytes
 * in one write, and each response read by a small parser (status line, headers, then a chunked or sized body).
 * A load test's client must cost less per request than the server it measures; node:http's request, agent and
 * parser objects cost about twice what this does per request (docs/perf.md).
 */

/** What the reader of one response hears: its status, its body in pieces as they arrive, its end. */
export interface ResponseHandler {
  onStatus(status: number): void;
  onBody(piece: Buffer, arrivedMs: number): void;
  onEnd(): void;
  onError(reason: string): void;
}

type BodyState =
  | { kind: 'head' }
  | { kind: 'size' }
  | { kind: 'data'; left: number }
  | { kind: 'dataEnd' }
  | { kind: 'trailer' }
  | { kind: 'sized'; left: number }
  | { kind: 'untilClose' }
  | { kind: 'done' };

const CRLF = Buffer.from('\r\n');
const HEAD_END = Buffer.from('\r\n\r\n');

/** Reads one HTTP/1.1 response from the bytes of a connection, however they are split. */
export class ResponseParser {
  private state: BodyState = { kind: 'head' };
  private buffered: Buffer = Buffer.alloc(0);
  /** Whether the connection may carry another request once this response is read. */
  keepAlive = true;

  constructor(private readonly handler: ResponseHandler) {}

  get done(): boolean {
    return this.state.kind === 'done';
  }

  /** Bytes as the socket gave them; the body's pieces are handed on with their arrival time. */
  push(bytes: Buffer, arrivedMs: number): void {
    const data = this.buffered.length > 0 ? Buffer.concat([this.buffered, bytes]) : bytes;
    let at = 0;
    for (;;) {
      const state = this.state;
      if (state.kind === 'done' || state.kind === 'untilClose') {
        if (state.kind === 'untilClose' && at < data.length)
          this.handler.onBody(data.subarray(at), arrivedMs);
        at = data.length;
        break;
      }
      if (state.kind === 'data' || state.kind === 'sized') {
        const take = Math.min(state.left, data.length - at);
        if (take > 0) this.handler.onBody(data.subarray(at, at + take), arrivedMs);
        at += take;
        state.left -= take;
        if (state.left > 0) break;
        this.state = state.kind === 'data' ? { kind: 'dataEnd' } : this.finish();
        continue;
      }
      const marker = state.kind === 'head' ? HEAD_END : CRLF;
      const end = data.indexOf(marker, at);
      if (end < 0) break;
      const text = data.toString('latin1', at, end);
      at = end + marker.length;
      if (state.kind === 'head') this.state = this.head(text);
      else if (state.kind === 'size') {
        const size = Number.parseInt(text.split(';')[0] ?? '', 16);
        if (!Number.isFinite(size)) return this.fail(`bad chunk size ${JSON.stringify(text.slice(0, 20))}`);
        this.state = size === 0 ? { kind: 'trailer' } : { kind: 'data', left: size };
      } else if (state.kind === 'dataEnd') {
        if (text !== '') return this.fail('a chunk longer than its size');
        this.state = { kind: 'size' };
      }
      // Trailer lines end at an empty one.
      else if (text === '') this.state = this.finish();
    }
    this.buffered = at < data.length ? Buffer.from(data.subarray(at)) : Buffer.alloc(0);
  }

  /** The connection closed: the end of a body read until close, an error otherwise. */
  closed(): void {
    if (this.state.kind === 'untilClose') {
      this.state = { kind: 'done' };
      this.handler.onEnd();
    } else if (this.state.kind !== 'done') this.fail('connection: closed before the response ended');
  }

  private head(text: string): BodyState {
    const [statusLine = '', ...lines] = text.split('\r\n');
    const status = /^HTTP\/1\.([01]) (\d{3})/.exec(statusLine);
    if (!status) {
      this.fail(`not an HTTP/1.x response: ${JSON.stringify(statusLine.slice(0, 40))}`);
      return { kind: 'done' };
    }
    const headers = new Map<string, string>();
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const connection = headers.get('connection')?.toLowerCase();
    this.keepAlive = status[1] === '1' ? connection !== 'close' : connection === 'keep-alive';
    this.handler.onStatus(Number(status[2]));
    if (headers.get('transfer-encoding')?.toLowerCase().includes('chunked')) return { kind: 'size' };
    const length = headers.get('content-length');
    if (length !== undefined)
      return Number(length) > 0 ? { kind: 'sized', left: Number(length) } : this.finish();
    this.keepAlive = false;
    return { kind: 'untilClose' };
  }

  private finish(): BodyState {
    this.state = { kind: 'done' };
    this.handler.onEnd();
    return this.state;
  }

  private fail(reason: string): void {
    this.state = { kind: 'done' };
    this.keepAlive = false;
    this.handler.onError(reason);
  }
}

/** One exchange in flight on a connection: cancelling it closes the connection. */
export interface Exchange {
  cancel(): void;
}

/** Keep-alive connections to the server of `url`, at most one exchange on each at a time. */
export class ConnectionPool {
  private readonly idle: net.Socket[] = [];
  private readonly open = new Set<net.Socket>();
  private readonly head: string;

  constructor(
    private readonly url: URL,
    headers: Record<string, string>,
  ) {
    const lines = Object.entries({ 'content-type': 'application/json', ...headers }).map(
      ([name, value]) => `${name}: ${value}\r\n`,
    );
    this.head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n${lines.join('')}`;
  }

  /** Sends one POST with this JSON body; the handler hears the response. */
  post(body: string, handler: ResponseHandler): Exchange {
    const socket = this.reusable() ?? this.connect();
    // The connection goes back to the pool before the handler hears the end, so that a request sent from the
    // handler's own callback may take it.
    const parser: ResponseParser = new ResponseParser({
      ...handler,
      onEnd: () => {
        release(parser.keepAlive);
        handler.onEnd();
      },
      onError: (reason) => {
        release(false);
        handler.onError(reason);
      },
    });
    let active = true;
    const onData = (bytes: Buffer): void => parser.push(bytes, performance.now());
    const onClose = (): void => {
      if (!active) return;
      release(false);
      parser.closed();
    };
    const onError = (error: Error & { code?: string }): void => {
      if (!active) return;
      release(false);
      handler.onError(`connection: ${error.code ?? error.message}`);
    };
    const release = (reuse: boolean): void => {
      if (!active) return;
      active = false;
      socket.off('data', onData).off('close', onClose).off('error', onError);
      if (reuse && !socket.destroyed) this.idle.push(socket);
      else socket.destroy();
    };
    socket.on('data', onData).on('close', onClose).on('error', onError);
    socket.write(`${this.head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    return { cancel: () => release(false) };
  }

  /** Closes every connection. */
  destroy(): void {
    for (const socket of this.open) socket.destroy();
    this.idle.length = 0;
  }

  /** An idle connection still open both ways (the server may have just closed one). */
  private reusable(): net.Socket | undefined {
    for (let socket = this.idle.pop(); socket; socket = this.idle.pop()) {
      if (!socket.destroyed && !socket.readableEnded && socket.writable) return socket;
      socket.destroy();
    }
    return undefined;
  }

  private connect(): net.Socket {
    const port = Number(this.url.port) || (this.url.protocol === 'https:' ? 443 : 80);
    const host = this.url.hostname.replace(/^\[(.*)\]$/, '$1');
    const socket =
      this.url.protocol === 'https:'
        ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host })
        : net.connect({ host, port });
    socket.setNoDelay(true);
    this.open.add(socket);
    // An idle connection the server closes (its keep-alive time-out) leaves the pool.
    socket.on('close', () => {
      this.open.delete(socket);
      const index = this.idle.indexOf(socket);
      if (index >= 0) this.idle.splice(index, 1);
    });
    socket.on('error', () => undefined);
    return socket;
  }
}
