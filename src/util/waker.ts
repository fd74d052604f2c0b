/**
 * A sleep that an event cuts short: `wake()` ends the current sleep, or the next one when none is running, so an
 * event that came while the caller was busy is not lost. `reset()` forgets events seen so far.
 */
export interface Waker {
  wake(): void;
  reset(): void;
  /** Resolves after `ms`, or at the first wake; never sooner than `minMs` (a flood of wakes must not spin). */
  sleep(ms: number, minMs?: number): Promise<void>;
  /** Ends a sleep in progress and lets no timer outlive the waiter. */
  dispose(): void;
}

export function createWaker(): Waker {
  let woken = false;
  let end: (() => void) | undefined;
  let timer: NodeJS.Timeout | undefined;
  const finish = () => {
    clearTimeout(timer);
    timer = undefined;
    const resolve = end;
    end = undefined;
    resolve?.();
  };
  return {
    wake() {
      woken = true;
      finish();
    },
    reset() {
      woken = false;
    },
    sleep(ms, minMs = 0) {
      const wait = woken ? minMs : ms;
      if (wait <= 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        end = resolve;
        timer = setTimeout(finish, wait);
      });
    },
    dispose: finish,
  };
}
