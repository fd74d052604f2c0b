import { performance } from 'node:perf_hooks';
import type { RequestOutcome } from './metrics.js';
import { streamChat, type StreamTarget } from './stream-client.js';

export interface LevelLoad {
  bodies: readonly string[];
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

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });
}

/**
 * Sends the level's requests as `vllm bench serve` does: arrivals on a Poisson schedule (exponential gaps of mean
 * 1/rate) independent of completions, each waiting for one of `concurrency` slots before it is sent.
 */
export async function runLevel(target: StreamTarget, load: LevelLoad): Promise<LevelOutcomes> {
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
  const sendOne = async (body: string): Promise<void> => {
    await acquire();
    const outcome = target.signal.aborted
      ? { ok: false as const, reason: 'aborted' }
      : await streamChat(target, body);
    release();
    outcomes.push(outcome);
    load.onDone(outcome);
  };
  const startMs = performance.now();
  const sent: Promise<void>[] = [];
  for (const body of load.bodies) {
    if (target.signal.aborted) break;
    if (load.rate !== null && sent.length > 0)
      await delay((-Math.log(1 - load.random()) / load.rate) * 1000, target.signal);
    sent.push(sendOne(body));
  }
  load.onAllSent?.();
  await Promise.all(sent);
  target.signal.throwIfAborted();
  return { outcomes, durationS: (performance.now() - startMs) / 1000 };
}
