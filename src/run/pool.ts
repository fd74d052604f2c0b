/**
 * Runs `work` on each item, at most `limit` at a time and in the items' order: each starts as soon as a slot
 * frees. Once `signal` is aborted no further item starts; those running see the same signal and are waited for.
 * An item whose work throws lets the running ones end, starts no more, and the first error is thrown then.
 */
export async function runPooled<T>(
  items: readonly T[],
  limit: number,
  signal: AbortSignal,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const slot = async () => {
    while (next < items.length && !signal.aborted && !failure) {
      const item = items[next] as T;
      next += 1;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, slot));
  if (failure) throw failure.error;
}
