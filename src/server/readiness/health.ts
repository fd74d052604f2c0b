import waitOn from 'wait-on';
import { findFatalLine } from '../../vllm/fatal-lines.js';
import type { ExitInfo, ServerHandle } from '../runtime.js';
import { ReadinessError } from './readiness-error.js';

export interface HealthWaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** How often /health is polled; also the worst-case lag between the server being ready and us noticing. */
  pollIntervalMs?: number;
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

function describeExit(exit: ExitInfo): string {
  if (exit.oomKilled) return 'was killed by the kernel OOM killer (host memory)';
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

export function exitError(handle: ServerHandle, exit: ExitInfo): ReadinessError {
  const fatal = findFatalLine(handle.logTail(400));
  const lines = [`vLLM ${describeExit(exit)} before it was ready.`];
  if (fatal) lines.push(`  cause: ${fatal.line}`);
  if (fatal?.hint) lines.push(`  fix:   ${fatal.hint}`);
  return new ReadinessError('exited', lines.join('\n'), handle.logTail(40), fatal);
}

function timeoutError(handle: ServerHandle, timeoutMs: number): ReadinessError {
  const log = handle.logTail(400);
  const fatal = findFatalLine(log);
  const lines = [
    `vLLM at ${handle.baseUrl} was not ready after ${Math.round(timeoutMs / 1000)} s (server.startup_timeout): /health never answered 200.`,
  ];
  // Only a server evalrig started has a log to quote.
  if (fatal) lines.push(`  last error in the log: ${fatal.line}`);
  else if (log.length > 0) lines.push('  the log shows no error: it may still be loading or compiling.');
  lines.push(`  fix:   ${handle.hints.notReady}`);
  return new ReadinessError('timeout', lines.join('\n'), handle.logTail(40), fatal);
}

/**
 * Polls /health until it answers 200. Fails at once when the server exits (quoting the fatal log line), when the
 * signal aborts, or when the start-up time is over.
 */
export async function waitForHealth(handle: ServerHandle, options: HealthWaitOptions): Promise<void> {
  const started = Date.now();
  const interval = options.pollIntervalMs ?? 100;
  let exit: ExitInfo | undefined;
  void handle.exited.then((info) => (exit = info));
  // Resolves when the server exits or the wait is aborted, so a poll slice never delays either.
  const interrupted = new Promise<void>((resolve) => {
    void handle.exited.then(() => resolve());
    options.signal?.addEventListener('abort', () => resolve(), { once: true });
  });

  for (;;) {
    if (exit) throw exitError(handle, exit);
    if (options.signal?.aborted)
      throw new ReadinessError('aborted', 'interrupted while waiting for vLLM to start', handle.logTail(20));
    const left = options.timeoutMs - (Date.now() - started);
    if (left <= 0) throw timeoutError(handle, options.timeoutMs);
    const healthy = await Promise.race([
      healthWithin(`${handle.baseUrl}/health`, Math.min(1_000, left), interval),
      interrupted.then(() => false),
    ]);
    if (healthy) break;
  }
  // The process may have died in the same instant the port answered; its exit wins over a stale answer.
  await new Promise((resolve) => setImmediate(resolve));
  if (exit) throw exitError(handle, exit);
}
