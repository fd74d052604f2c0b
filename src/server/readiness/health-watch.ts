import type { ServerHandle } from '../runtime.js';

/** The server no longer answers /health: evaluating on would only wait out one time-out per request. */
export class ServerStoppedAnsweringError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ServerStoppedAnsweringError';
  }
}

export interface HealthWatchOptions {
  /** How often /health is asked. */
  intervalMs: number;
  /** How long it may keep failing before the watch gives up on the server. */
  unhealthyAfterMs: number;
}

export interface HealthWatch {
  /** Resolves with the reason once the server has failed /health for `unhealthyAfterMs`; never otherwise. */
  stoppedAnswering: Promise<ServerStoppedAnsweringError>;
  /** Ends the watch (the evaluation is over). */
  stop(): void;
}

/** One /health answer: ok, or why not, in a few words. */
async function askHealth(url: string, timeoutMs: number): Promise<string | null> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.status === 200 ? null : `HTTP ${response.status}`;
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : '';
    return cause || (error instanceof Error ? error.message : String(error));
  }
}

/**
 * Asks /health every `intervalMs` while an evaluation runs, for every runtime (an external endpoint has no process
 * whose exit would say it is gone). The first success after failures resets the clock: a slow moment under load
 * is not a dead server.
 */
export function watchHealth(handle: ServerHandle, options: HealthWatchOptions): HealthWatch {
  let failingSince: number | null = null;
  let lastReason = '';
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let report: (error: ServerStoppedAnsweringError) => void = () => undefined;
  const stoppedAnswering = new Promise<ServerStoppedAnsweringError>((resolve) => (report = resolve));

  const check = async (): Promise<void> => {
    const reason = await askHealth(`${handle.baseUrl}/health`, Math.max(1_000, options.intervalMs));
    if (stopped) return;
    if (reason === null) {
      failingSince = null;
    } else {
      failingSince ??= Date.now();
      lastReason = reason;
      const failingMs = Date.now() - failingSince;
      if (failingMs >= options.unhealthyAfterMs) {
        stopped = true;
        report(
          new ServerStoppedAnsweringError(
            `vLLM stopped answering: ${handle.baseUrl}/health has failed for ${Math.round(failingMs / 1000)} s ` +
              `(last: ${lastReason}). The server may be hung or overloaded; see server.log, and ` +
              'server.unhealthy_after to wait longer.',
          ),
        );
        return;
      }
    }
    timer = setTimeout(() => void check(), options.intervalMs);
    // The watch alone must not keep evalrig running.
    timer.unref();
  };
  timer = setTimeout(() => void check(), options.intervalMs);
  timer.unref();
  return {
    stoppedAnswering,
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
