import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ExitInfo, ReadinessHints, ServerHandle } from '../../../../src/server/runtime.js';

export type Route = (request: IncomingMessage, response: ServerResponse) => void;

/** A small HTTP server standing in for vLLM's routes, counting the requests it gets. */
export interface Stub {
  baseUrl: string;
  hits: Map<string, number>;
  close(): Promise<void>;
}

export async function startStub(routes: Record<string, Route>): Promise<Stub> {
  const hits = new Map<string, number>();
  const server: Server = createServer((request, response) => {
    const path = request.url ?? '';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const route = routes[path];
    if (route) route(request, response);
    else response.writeHead(404).end('{"detail":"Not Found"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    hits,
    // Clients keep idle connections open; closing them lets the stub end at once instead of at their time-out.
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export function json(status: number, body: unknown): Route {
  return (_request, response) =>
    response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

/** 503 for the first `failures` requests, then 200: vLLM's /health while it loads. */
export function healthAfter(failures: number): Route {
  let seen = 0;
  return (_request, response) => {
    seen += 1;
    response.writeHead(seen > failures ? 200 : 503).end();
  };
}

export const MODELS = {
  object: 'list',
  data: [{ id: 'Qwen3-8B', object: 'model', owned_by: 'vllm', max_model_len: 8192 }],
};

const HINTS: ReadinessHints = {
  notReady: 'raise the start-up time',
  keyOwner: 'the server was started with',
  modelMissing: 'stop the other server',
};

/** A handle for a server at `baseUrl` whose exit and log lines the test decides. */
export function fakeHandle(
  baseUrl: string,
  options: { servedModel?: string; apiKey?: string; log?: string[]; launched?: boolean } = {},
): ServerHandle & { exit(info: ExitInfo): void; print(line: string): void } {
  let exit: (info: ExitInfo) => void = () => undefined;
  const exited = new Promise<ExitInfo>((resolve) => (exit = resolve));
  const log = options.log ?? [];
  const listeners = new Set<(line: string) => void>();
  return {
    runtime: 'local',
    launched: options.launched ?? true,
    hints: HINTS,
    baseUrl,
    apiKey: options.apiKey,
    servedModel: options.servedModel ?? 'Qwen3-8B',
    displayArgv: [],
    exited,
    logTail: (lines = 40) => log.slice(-lines),
    onLogLine: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: async () => ({ outcome: 'graceful', duration_ms: 0, verified: true, detail: 'stopped' }),
    exit: (info) => exit(info),
    /** The server prints a line: it joins the log and reaches every listener. */
    print: (line) => {
      log.push(line);
      for (const listener of listeners) listener(line);
    },
  };
}
