import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { RequestOutcome } from './metrics.js';
import { streamChat, type StreamTarget } from './stream-client.js';

export interface LevelLoad {
  /** Request bodies in sending order: the level sends until they run out or `sendForS` has passed. */
  bodies: Iterator<string>;
  /** Seconds from the level's start after which no request is sent (those in flight finish); null: no limit. */
  sendForS: number | null;
  concurrency: number;
  /** Requests per second of Poisson arrivals; null: every request at once, held back only by concurrency. */
  rate: number | null;
  random: () => number;
  /** Called as each request finishes, for the progress display. */
  onDone: (outcome: RequestOutcome) => void;
  /** Called once the last request has been sent: the moment the server is busiest. */
  onAllSent?: () => void;
}

export interface LevelOutcomes {
  outcomes: RequestOutcome[];
  durationS: number;
}

/** Waits `ms`, or less when the signal aborts; leaves no listener behind either way. */
function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * Sends the level's requests as `vllm bench serve` does: arrivals on a Poisson schedule (exponential gaps of mean
 * 1/rate) independent of completions, each waiting for one of `concurrency` slots before it is sent. Without a
 * rate the next request is taken only once a slot is free, so a level bounded by time never queues more than it
 * can send.
 */
export async function runLevel(target: StreamTarget, load: LevelLoad): Promise<LevelOutcomes> {
  // Each request in flight listens on the level's own signal; as many may listen as there are slots.
  const level = new AbortController();
  setMaxListeners(load.concurrency + 2, level.signal);
  const forwardAbort = (): void => level.abort(target.signal.reason);
  target.signal.addEventListener('abort', forwardAbort, { once: true });
  const levelTarget: StreamTarget = { ...target, signal: level.signal };
  const outcomes: RequestOutcome[] = [];
  const waiting: (() => void)[] = [];
  let free = load.concurrency;
  const acquire = (): Promise<void> =>
    free > 0 ? (free--, Promise.resolve()) : new Promise((resolve) => waiting.push(resolve));
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else free++;
  };
  const sendOne = async (body: string, holdsSlot: boolean): Promise<void> => {
    if (!holdsSlot) await acquire();
    const outcome = level.signal.aborted
      ? { ok: false as const, reason: 'aborted' }
      : await streamChat(levelTarget, body);
    release();
    outcomes.push(outcome);
    load.onDone(outcome);
  };
  const startMs = performance.now();
  const deadline = load.sendForS === null ? Infinity : startMs + load.sendForS * 1000;
  const sent: Promise<void>[] = [];
  try {
    for (let next = load.bodies.next(); !next.done; next = load.bodies.next()) {
      if (load.rate !== null && sent.length > 0)
        await sleepUnlessAborted((-Math.log(1 - load.random()) / load.rate) * 1000, level.signal);
      const holdsSlot = load.rate === null;
      if (holdsSlot) await acquire();
      if (level.signal.aborted || performance.now() >= deadline) {
        if (holdsSlot) release();
        break;
      }
      sent.push(sendOne(next.value, holdsSlot));
    }
    load.onAllSent?.();
    await Promise.all(sent);
  } finally {
    target.signal.removeEventListener('abort', forwardAbort);
  }
  target.signal.throwIfAborted();
  return { outcomes, durationS: (performance.now() - startMs) / 1000 };
}
