import { InterruptedError, type StopSignal } from '../errors.js';

const SIGNALS: StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * One trap for a whole command, from the plan's loading to the last matrix variant's teardown: the first
 * SIGINT/SIGTERM/SIGHUP aborts `signal` (with an InterruptedError), any later one runs every repeat action set
 * (a second Ctrl-C kills each running server without waiting for a graceful stop: a matrix may run several).
 */
export interface Interruption {
  signal: AbortSignal;
  /** Adds what a repeated signal does from now on; the returned function removes it again. */
  onRepeat(action: () => void): () => void;
  /** Removes the handlers: signals get Node's defaults again. */
  release(): void;
}

export function trapStopSignals(onFirst: (signal: StopSignal) => void): Interruption {
  const controller = new AbortController();
  const repeats = new Set<() => void>();
  const handler = (signal: StopSignal) => {
    if (controller.signal.aborted) {
      for (const repeat of repeats) repeat();
      return;
    }
    onFirst(signal);
    controller.abort(new InterruptedError(signal));
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  return {
    signal: controller.signal,
    onRepeat(action) {
      // A wrapper of its own: the same function added twice is still removed once per call.
      const entry = () => action();
      repeats.add(entry);
      return () => {
        repeats.delete(entry);
      };
    },
    release() {
      for (const signal of SIGNALS) process.off(signal, handler);
    },
  };
}
