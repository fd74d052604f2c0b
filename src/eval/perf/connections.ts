import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';

/**
 * Kept-alive HTTP/1.1 connections to one server for streamed POSTs, through undici's `Pool.dispatch`, its
 * lowest-overhead interface: no response object or stream per request, the body handed on in the pieces the
 * connection delivers. A load test's client must cost less per request than the server it measures; node:http's
 * request, agent and parser objects cost about twice as much per request (docs/perf.md). Loaded only when a perf
 * evaluation runs.
 */

/** What the reader of one response hears: its status, its body in pieces as they arrive, its end. */
export interface ResponseHandler {
  onStatus(status: number): void;
  /** A piece of the body, stamped with `performance.now()` as it arrived, before anything read it. */
  onBody(piece: Buffer, arrivedMs: number): void;
  onEnd(): void;
  onError(reason: string): void;
}

/** One exchange in flight: cancelling it closes its connection. */
export interface Exchange {
  cancel(): void;
}

/** Why a connection failed, for a person: the system's code (ECONNREFUSED) or what undici noticed. */
export function connectionFailure(error: Error & { code?: string }): string {
  if (error.code === 'UND_ERR_SOCKET') return 'connection: closed before the response ended';
  const systemCode = error.code && !error.code.startsWith('UND_ERR') ? error.code : undefined;
  return `connection: ${systemCode ?? error.message}`;
}

/** At most `connections` kept-alive connections to the server of `url`, one exchange on each at a time. */
export class Connections {
  private readonly pool: Pool;
  private readonly path: string;
  private readonly headers: string[];

  constructor(url: URL, headers: Record<string, string>, connections: number) {
    // The request's own time-out (stream-client.ts) is the only one: undici's would cut long generations short.
    this.pool = new Pool(url.origin, { connections, pipelining: 1, headersTimeout: 0, bodyTimeout: 0 });
    this.path = `${url.pathname}${url.search}`;
    this.headers = Object.entries({ 'content-type': 'application/json', ...headers }).flat();
  }

  /** Sends one POST with this JSON body; the handler hears the response. */
  post(body: string, handler: ResponseHandler): Exchange {
    let active = true;
    let controller: Dispatcher.DispatchController | undefined;
    const cancelled = (): Error => new Error('cancelled by the client');
    this.pool.dispatch(
      { path: this.path, method: 'POST', headers: this.headers, body },
      {
        onRequestStart: (started) => {
          controller = started;
          if (!active) started.abort(cancelled());
        },
        onResponseStart: (_controller, status) => handler.onStatus(status),
        onResponseData: (_controller, piece) => handler.onBody(piece, performance.now()),
        onResponseEnd: () => {
          active = false;
          handler.onEnd();
        },
        onResponseError: (_controller, error) => {
          if (!active) return;
          active = false;
          handler.onError(connectionFailure(error));
        },
      },
    );
    return {
      cancel: () => {
        if (!active) return;
        active = false;
        controller?.abort(cancelled());
      },
    };
  }

  /** Closes every connection, cutting off exchanges still in flight. */
  close(): Promise<void> {
    return this.pool.destroy();
  }
}
