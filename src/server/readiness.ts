import waitOn from 'wait-on';
import { findFatalLine, type FatalLine } from '../vllm/fatal-lines.js';
import type { ExitInfo, ServerHandle } from './runtime.js';

export interface ReadyInfo {
  /** The model name requests must use: the plan's served name, or what an external endpoint serves. */
  servedModel: string;
  /** From GET /version; null when the server does not have the route. */
  vllmVersion: string | null;
  /** From GET /v1/models for the served name. */
  maxModelLen: number | null;
  servedModels: string[];
  /** From the start of the wait to the moment readiness was detected. */
  waitedMs: number;
}

export interface ReadinessOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** How often /health is polled; also the worst-case lag between the server being ready and us noticing. */
  pollIntervalMs?: number;
}

export type ReadinessFailure = 'exited' | 'timeout' | 'wrong-server' | 'aborted';

export class ReadinessError extends Error {
  constructor(
    readonly kind: ReadinessFailure,
    message: string,
    readonly tail: string[],
    readonly fatal?: FatalLine,
  ) {
    super(message);
    this.name = 'ReadinessError';
  }
}

function describeExit(exit: ExitInfo): string {
  if (exit.oomKilled) return 'was killed by the kernel OOM killer (host memory)';
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

function exitError(handle: ServerHandle, exit: ExitInfo): ReadinessError {
  const tail = handle.logTail(40);
  const fatal = findFatalLine(handle.logTail(400));
  const lines = [`vLLM ${describeExit(exit)} before it was ready.`];
  if (fatal) lines.push(`  cause: ${fatal.line}`);
  if (fatal?.hint) lines.push(`  fix:   ${fatal.hint}`);
  return new ReadinessError('exited', lines.join('\n'), tail, fatal);
}

/** One slice of /health polling through wait-on; slices keep the wait interruptible (wait-on takes no AbortSignal). */
async function healthWithin(url: string, ms: number, intervalMs: number): Promise<boolean> {
  try {
    await waitOn({
      resources: [url.replace(/^http:/, 'http-get:')],
      interval: intervalMs,
      window: 0,
      timeout: ms,
      httpTimeout: Math.max(ms, 1_000),
      tcpTimeout: 1_000,
      validateStatus: (status) => status === 200,
      proxy: false,
    });
    return true;
  } catch {
    return false;
  }
}

interface ModelList {
  data?: { id?: string; max_model_len?: number }[];
}

interface JsonReply<T> {
  status: number;
  body: T | undefined;
  /** The start of the body, for messages when it is not what we expected. */
  text: string;
}

async function getJson<T>(url: string, apiKey: string | undefined): Promise<JsonReply<T>> {
  const response = await fetch(url, {
    headers: apiKey ? { Authorization: `Bearer ${apiKey}` } : {},
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as T, text: text.slice(0, 200) };
  } catch {
    return { status: response.status, body: undefined, text: text.slice(0, 200) };
  }
}

/** Resolves when the server exits or the wait is aborted, so a poll slice never delays either. */
function interruption(handle: ServerHandle, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    void handle.exited.then(() => resolve());
    signal?.addEventListener('abort', () => resolve(), { once: true });
  });
}

function timeoutMessage(handle: ServerHandle, timeoutMs: number): string {
  const seconds = Math.round(timeoutMs / 1000);
  if (handle.runtime === 'external') {
    return [
      `${handle.baseUrl}/health did not answer 200 within ${seconds} s (server.startup_timeout).`,
      '  fix:   check server.base_url and that the server is up (curl it), or raise server.startup_timeout if it is still starting.',
    ].join('\n');
  }
  const fatal = findFatalLine(handle.logTail(400));
  return [
    `vLLM was not ready after ${seconds} s (server.startup_timeout).`,
    fatal
      ? `  last error in the log: ${fatal.line}`
      : '  the log shows no error: it may still be loading or compiling.',
    '  fix:   raise server.startup_timeout for big models or a cold compile cache; check server.log.',
  ].join('\n');
}

/** GET /v1/models and find the model to evaluate, with a message for each way it can go wrong. */
async function findServedModel(
  handle: ServerHandle,
): Promise<{ ours: { id?: string; max_model_len?: number }; served: string[] }> {
  const url = `${handle.baseUrl}/v1/models`;
  const fail = (message: string) => new ReadinessError('wrong-server', message, handle.logTail(20));
  let models: JsonReply<ModelList>;
  try {
    models = await getJson<ModelList>(url, handle.apiKey);
  } catch (error) {
    throw fail(
      `${url} failed after /health answered: ${(error as Error).message}. Is something else listening on that port?`,
    );
  }
  if (models.status === 401) {
    const whose = handle.runtime === 'external' ? 'the endpoint expects' : 'the server was started with';
    throw fail(`${url} answered 401 Unauthorized: server.api_key does not match the key ${whose}.`);
  }
  if (models.status !== 200 || !Array.isArray(models.body?.data)) {
    throw fail(
      `${url} answered ${models.status} with ${JSON.stringify(models.text)}, not a model list: is this a vLLM (OpenAI-compatible) server?`,
    );
  }
  const entries = models.body.data;
  const served = entries.map((entry) => entry.id ?? '');
  // An external endpoint without a served name in the plan: take what it serves (the first model).
  const ours =
    handle.servedModel === '' ? entries[0] : entries.find((entry) => entry.id === handle.servedModel);
  if (!ours) {
    const listed = served.length > 0 ? `lists [${served.join(', ')}]` : 'lists no model';
    const what = handle.servedModel === '' ? 'a model' : `"${handle.servedModel}"`;
    const fix =
      handle.runtime === 'external'
        ? 'Set server.served_model_name to one it lists.'
        : 'Another server holds this port: stop it or use server.port: auto.';
    throw fail(`${handle.baseUrl} answers, but /v1/models ${listed}, not ${what}. ${fix}`);
  }
  return { ours, served };
}

/**
 * Ready means: /health answers 200, then /v1/models lists our served name (the port could belong to another
 * server: vLLM binds with SO_REUSEPORT). Fails at once when the server exits, quoting the fatal log line.
 */
export async function waitUntilReady(handle: ServerHandle, options: ReadinessOptions): Promise<ReadyInfo> {
  const started = Date.now();
  const interval = options.pollIntervalMs ?? 100;
  let exit: ExitInfo | undefined;
  void handle.exited.then((info) => (exit = info));
  const interrupted = interruption(handle, options.signal);

  for (;;) {
    if (exit) throw exitError(handle, exit);
    if (options.signal?.aborted)
      throw new ReadinessError('aborted', 'interrupted while waiting for vLLM to start', handle.logTail(20));
    const left = options.timeoutMs - (Date.now() - started);
    if (left <= 0)
      throw new ReadinessError(
        'timeout',
        timeoutMessage(handle, options.timeoutMs),
        handle.logTail(40),
        findFatalLine(handle.logTail(400)),
      );
    const healthy = await Promise.race([
      healthWithin(`${handle.baseUrl}/health`, Math.min(1_000, left), interval),
      interrupted.then(() => false),
    ]);
    if (healthy) break;
  }
  // The process may have died in the same instant the port answered; its exit wins over a stale answer.
  await new Promise((resolve) => setImmediate(resolve));
  if (exit) throw exitError(handle, exit);

  const { ours, served } = await findServedModel(handle);
  const version = await getJson<{ version?: string }>(`${handle.baseUrl}/version`, handle.apiKey).catch(
    () => undefined,
  );
  return {
    servedModel: ours.id ?? handle.servedModel,
    vllmVersion: version?.body?.version ?? null,
    maxModelLen: ours.max_model_len ?? null,
    servedModels: served,
    waitedMs: Date.now() - started,
  };
}
