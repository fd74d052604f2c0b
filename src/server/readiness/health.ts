import { findFatalLine } from '../../vllm/fatal-lines.js';
import type { ExitInfo, ServerHandle } from '../runtime.js';
import { httpGet } from './http-get.js';
import { ReadinessError } from './readiness-error.js';
import { createWaker } from '../../util/waker.js';

export interface HealthWaitOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /**
   * The longest gap between two /health probes while the server prints nothing (default 250 ms). After each log
   * line the probes start again 2 ms apart and back off towards it: a server is most likely to come up right after
   * it said something, and a quiet one is still loading.
   */
  pollIntervalMs?: number;
}

/** The first gap after a log line, doubled after each probe that finds the server not ready yet. */
const FIRST_GAP_MS = 2;
const DEFAULT_LONGEST_GAP_MS = 250;
/** One probe may take this long: a port that accepts but never answers must not hold the wait. */
const PROBE_TIMEOUT_MS = 2_000;

/** Whether /health answers 200 now; any failure (refused, reset, time-out, 503) is "not yet". */
async function healthy(url: string): Promise<boolean> {
  try {
    return (await httpGet(url, { timeoutMs: PROBE_TIMEOUT_MS, maxBytes: 1_000 })).status === 200;
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
  const lines = [
    exit.description
      ? `vLLM ended before it was ready: ${exit.description}`
      : `vLLM ${describeExit(exit)} before it was ready.`,
  ];
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
 * Probes /health until it answers 200. Each server log line wakes the probe at once (vLLM prints its routes and
 * `Application startup complete.` as it comes up), but only the HTTP answer decides: a line is never taken for
 * readiness. Fails at once when the server exits (quoting the fatal log line), when the signal aborts, or when
 * the start-up time is over.
 */
export async function waitForHealth(handle: ServerHandle, options: HealthWaitOptions): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const longestGap = options.pollIntervalMs ?? DEFAULT_LONGEST_GAP_MS;
  let exit: ExitInfo | undefined;
  const waker = createWaker();
  void handle.exited.then((info) => {
    exit = info;
    waker.wake();
  });
  const onAbort = () => waker.wake();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  let gap = FIRST_GAP_MS;
  const unsubscribe = handle.onLogLine(() => {
    gap = FIRST_GAP_MS;
    waker.wake();
  });
  const url = `${handle.baseUrl}/health`;
  try {
    for (;;) {
      if (exit) throw exitError(handle, exit);
      if (options.signal?.aborted)
        throw new ReadinessError(
          'aborted',
          'interrupted while waiting for vLLM to start',
          handle.logTail(20),
        );
      const left = deadline - Date.now();
      if (left <= 0) throw timeoutError(handle, options.timeoutMs);
      // A line printed while the probe was in flight wakes the next probe at once.
      waker.reset();
      if (await healthy(url)) break;
      await waker.sleep(Math.min(gap, left), FIRST_GAP_MS);
      gap = Math.min(gap * 2, longestGap);
    }
  } finally {
    unsubscribe();
    options.signal?.removeEventListener('abort', onAbort);
    waker.dispose();
  }
  // The process may have died in the same instant the port answered; its exit wins over a stale answer.
  await new Promise((resolve) => setImmediate(resolve));
  if (exit) throw exitError(handle, exit);
}
