import { InterruptedError, type StopSignal } from '../errors.js';

const SIGNALS: StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Turns SIGINT/SIGTERM/SIGHUP into an abort of the run (first signal) and a call to `onRepeat` (any later
 * one: a second Ctrl-C skips the wait for a graceful stop). Returns a function that removes the handlers.
 */
export function trapStopSignals(
  controller: AbortController,
  onFirst: (signal: StopSignal) => void,
  onRepeat: (signal: StopSignal) => void,
): () => void {
  const handler = (signal: StopSignal) => {
    if (controller.signal.aborted) {
      onRepeat(signal);
      return;
    }
    onFirst(signal);
    controller.abort(new InterruptedError(signal));
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  return () => {
    for (const signal of SIGNALS) process.off(signal, handler);
  };
}
