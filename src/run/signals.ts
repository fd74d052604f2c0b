import { InterruptedError, type StopSignal } from '../errors.js';

const SIGNALS: StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * One trap for a whole command, from the plan's loading to the last matrix variant's teardown: the first
 * SIGINT/SIGTERM/SIGHUP aborts `signal` (with an InterruptedError), any later one runs the current repeat action
 * (a second Ctrl-C kills the server without waiting for a graceful stop).
 */
export interface Interruption {
  signal: AbortSignal;
  /** Sets what a repeated signal does from now on; the returned function unsets it. */
  onRepeat(action: () => void): () => void;
  /** Removes the handlers: signals get Node's defaults again. */
  release(): void;
}

export function trapStopSignals(onFirst: (signal: StopSignal) => void): Interruption {
  const controller = new AbortController();
  let repeat: (() => void) | undefined;
  const handler = (signal: StopSignal) => {
    if (controller.signal.aborted) {
      repeat?.();
      return;
    }
    onFirst(signal);
    controller.abort(new InterruptedError(signal));
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  return {
    signal: controller.signal,
    onRepeat(action) {
      repeat = action;
      return () => {
        if (repeat === action) repeat = undefined;
      };
    },
    release() {
      for (const signal of SIGNALS) process.off(signal, handler);
    },
  };
}
