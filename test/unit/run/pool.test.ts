import { describe, expect, it } from 'vitest';
import { runPooled } from '../../../src/run/pool.js';

/** Work that records when each item starts and ends, and waits until `release` lets the item go. */
function recorder() {
  const events: string[] = [];
  const waiting = new Map<string, () => void>();
  let running = 0;
  let most = 0;
  const work = async (item: string) => {
    events.push(`start ${item}`);
    most = Math.max(most, ++running);
    await new Promise<void>((resolve) => waiting.set(item, resolve));
    running -= 1;
    events.push(`end ${item}`);
    if (item.startsWith('fail')) throw new Error(`${item} failed`);
  };
  const release = async (item: string) => {
    while (!waiting.has(item)) await new Promise((resolve) => setImmediate(resolve));
    waiting.get(item)!();
    waiting.delete(item);
  };
  return { events, work, release, most: () => most };
}

describe('runPooled', () => {
  it('runs at most `limit` at once, in order, each starting as a slot frees', async () => {
    const { events, work, release, most } = recorder();
    const done = runPooled(['a', 'b', 'c', 'd'], 2, new AbortController().signal, work);
    await release('b');
    await release('c');
    await release('a');
    await release('d');
    await done;
    expect(most()).toBe(2);
    expect(events).toEqual(['start a', 'start b', 'end b', 'start c', 'end c', 'start d', 'end a', 'end d']);
  });

  it('starts nothing more once aborted, and waits for the items running', async () => {
    const { events, work, release } = recorder();
    const controller = new AbortController();
    const done = runPooled(['a', 'b', 'c'], 2, controller.signal, work);
    controller.abort();
    await release('a');
    await release('b');
    await done;
    expect(events).toEqual(['start a', 'start b', 'end a', 'end b']);
  });

  it('lets the running items end after one throws, starts no more, then throws its error', async () => {
    const { events, work, release } = recorder();
    const done = runPooled(['fail-a', 'b', 'c'], 2, new AbortController().signal, work);
    const settled = done.catch((error: unknown) => error);
    await release('fail-a');
    await release('b');
    expect(((await settled) as Error).message).toBe('fail-a failed');
    expect(events).toEqual(['start fail-a', 'start b', 'end fail-a', 'end b']);
  });
});
