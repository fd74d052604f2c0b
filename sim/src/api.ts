import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { handleChat } from './chat.js';
import { type ApiState, sendJson, sendText } from './http.js';
import { UNAUTHORIZED_BODY, modelListBody } from './responses.js';
import { handleTokenize } from './tokenize.js';

// The OpenAI-compatible HTTP API on node:http, answering like vLLM's FastAPI app behind uvicorn.

/** The routes vLLM lists at start-up that the simulator serves (`/metrics` is a mount, not listed). */
export const ROUTES: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['/health', ['GET']],
  ['/ping', ['GET', 'POST']],
  ['/version', ['GET']],
  ['/v1/models', ['GET']],
  ['/v1/chat/completions', ['POST']],
  ['/tokenize', ['POST']],
];

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function route(state: ApiState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // A wedged engine: the connection is accepted and then nothing comes back.
  if (state.hung) return;
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
    case '/tokenize':
      handleTokenize(state, req, res, await readBody(req));
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
