import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AnswerBook } from './answers.js';
import type { ServeArgs } from './cli.js';
import type { Scheduler } from './engine.js';
import type { HttpErrorInjector } from './faults.js';
import type { Knobs } from './knobs.js';
import type { ProcessLog } from './log.js';
import type { MetricsRenderer } from './metrics.js';
import type { ParserSetup } from './reasoning.js';
import type { VersionRules } from './versions.js';

// What every route handler shares: the server's state, and responses written (and access-logged) as uvicorn does.

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
  /** hang_after: the engine is wedged; no request gets an answer any more, /health included. */
  hung: boolean;
  /** Chat requests received so far (slow_tokens counts from here). */
  chatRequests: number;
  /** Called once per chat request that completed normally (crash_after counts these). */
  onChatCompleted(): void;
}

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

export function sendText(
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
