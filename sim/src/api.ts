import {
  type IncomingMessage,
  type Server,
  type ServerResponse,
  STATUS_CODES,
  createServer,
} from 'node:http';
import type { AnswerBook } from './answers.js';
import { handleChat } from './chat.js';
import type { ServeArgs } from './cli.js';
import type { Scheduler } from './engine.js';
import type { HttpErrorInjector } from './faults.js';
import type { Knobs } from './knobs.js';
import type { ProcessLog } from './log.js';
import type { MetricsRenderer } from './metrics.js';
import type { ParserSetup } from './reasoning.js';
import { UNAUTHORIZED_BODY, modelListBody } from './responses.js';
import type { VersionRules } from './versions.js';

// The OpenAI-compatible HTTP API on node:http, answering like vLLM's FastAPI app behind uvicorn.

export interface ApiState {
  readonly rules: VersionRules;
  readonly knobs: Knobs;
  readonly args: ServeArgs;
  readonly servedNames: readonly string[];
  readonly maxModelLen: number;
  readonly apiKey: string | null;
  readonly parser: ParserSetup;
  readonly log: ProcessLog;
  readonly scheduler: Scheduler;
  readonly book: AnswerBook;
  readonly metrics: MetricsRenderer;
  readonly injector: HttpErrorInjector;
  readonly logRequests: boolean;
  engineDead: boolean;
  /** Chat requests received so far (slow_tokens counts from here). */
  chatRequests: number;
  /** Called once per chat request that completed normally (crash_after counts these). */
  onChatCompleted(): void;
}

/** The routes vLLM lists at start-up that the simulator serves (`/metrics` is a mount, not listed). */
export const ROUTES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['/health', ['GET']],
  ['/ping', ['GET', 'POST']],
  ['/version', ['GET']],
  ['/v1/models', ['GET']],
  ['/v1/chat/completions', ['POST']],
];

function client(req: IncomingMessage): string {
  const address = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  return `${address}:${req.socket.remotePort ?? 0}`;
}

/** Sends the status line and headers, logging the access line as uvicorn does at that moment. */
export function writeHead(
  state: ApiState,
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  headers: Record<string, string | number>,
): void {
  state.log.uvicorn(
    'INFO',
    `${client(req)} - "${req.method} ${req.url} HTTP/${req.httpVersion}" ${status} ${STATUS_CODES[status] ?? ''}`,
    'out',
  );
  res.writeHead(status, { server: 'uvicorn', ...headers });
}

export function sendJson(
  state: ApiState,
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  body: unknown,
): void {
  const text = JSON.stringify(body);
  writeHead(state, req, res, status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function sendText(
  state: ApiState,
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  text: string,
  type?: string,
): void {
  writeHead(state, req, res, status, {
    ...(type ? { 'content-type': type } : {}),
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function route(state: ApiState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const method = req.method ?? 'GET';
  // Only /v1 paths are guarded; OPTIONS passes; the header must be exactly `Bearer <key>` (vllm-versions §4.4).
  if (
    state.apiKey !== null &&
    path.startsWith('/v1') &&
    method !== 'OPTIONS' &&
    req.headers.authorization !== `Bearer ${state.apiKey}`
  ) {
    sendJson(state, req, res, 401, UNAUTHORIZED_BODY);
    return;
  }
  const methods = path === '/metrics' ? ['GET'] : ROUTES.find(([p]) => p === path)?.[1];
  if (!methods) {
    sendJson(state, req, res, 404, { detail: 'Not Found' });
    return;
  }
  if (!methods.includes(method)) {
    res.setHeader('allow', methods.join(', '));
    sendJson(state, req, res, 405, { detail: 'Method Not Allowed' });
    return;
  }
  switch (path) {
    case '/health':
    case '/ping':
      // vllm-versions §4.1: empty 200, or 503 once the engine is dead.
      sendText(state, req, res, state.engineDead ? 503 : 200, '');
      return;
    case '/version':
      sendJson(state, req, res, 200, { version: state.rules.version });
      return;
    case '/v1/models':
      sendJson(
        state,
        req,
        res,
        200,
        modelListBody(state.rules, state.servedNames, state.args.model, state.maxModelLen),
      );
      return;
    case '/metrics':
      sendText(
        state,
        req,
        res,
        200,
        state.metrics.render(state.scheduler.stats()),
        'text/plain; version=0.0.4; charset=utf-8',
      );
      return;
    default:
      handleChat(state, req, res, await readBody(req));
  }
}

export function createApiServer(state: ApiState): Server {
  const server = createServer((req, res) => {
    route(state, req, res).catch(() => {
      if (!res.headersSent)
        sendText(state, req, res, 500, 'Internal Server Error', 'text/plain; charset=utf-8');
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 5000; // uvicorn's default timeout_keep_alive
  return server;
}
