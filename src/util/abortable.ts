/**
 * Settles with `work`, or rejects with the signal's reason as soon as it aborts: for work that cannot be told to
 * stop (a probe that runs to its own time-out, a client sleeping between retries), so the caller need not wait.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    if (signal.aborted) onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
