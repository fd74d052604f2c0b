import { choiceLetters } from '../../datasets/letters.js';
import { parseRepeatId, repeatStats } from '../../datasets/repeats.js';
import type { Sample } from '../../datasets/types.js';
import type { EvalMetrics, LatencySummary, PredictionRecord, RepeatSummary } from '../types.js';
import { extractAnswer, splitReasoning } from './extract.js';
import type { Completion } from './request.js';

/** The record for a completion (or for none, when the request failed), without timing and attempts. */
export function scoreCompletion(
  sample: Sample,
  prompt: string,
  completion: Completion | null,
): Omit<PredictionRecord, 'latency_ms' | 'attempts'> {
  const { content, reasoning } = splitReasoning(completion?.message ?? {});
  const extracted = extractAnswer(content, choiceLetters(sample.choices.length));
  const finishReason = completion?.finishReason ?? null;
  return {
    id: sample.id,
    subset: sample.subset,
    prompt,
    content,
    reasoning,
    extracted,
    gold: sample.answer,
    correct: extracted === sample.answer,
    finish_reason: finishReason,
    // Out of budget before an answer was given: a wrong answer, but one worth telling apart.
    truncated: finishReason === 'length' && extracted === null,
    error: null,
    error_kind: null,
    usage: completion?.usage ?? null,
    ttft_ms: completion?.ttftMs ?? null,
  };
}

/** What the result needs of one prediction record: no texts, so an earlier run's records can be held cheaply. */
export type TalliedRecord = Pick<
  PredictionRecord,
  'id' | 'subset' | 'correct' | 'truncated' | 'error' | 'usage' | 'latency_ms'
>;

interface Count {
  num: number;
  correct: number;
}

/**
 * The result's figures, kept as running counts while the records themselves go to disk, so that memory does not
 * grow with the records' texts. It aggregates the way EvalScope's report does: the overall score is the micro mean
 * over all samples (its OVERALL row), not the mean of the subset scores; errors and truncations are in `num` and
 * count as wrong, because `correct` is false for them.
 */
export class ScoreTally {
  private num = 0;
  private correct = 0;
  private truncated = 0;
  private errors = 0;
  private readonly usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  private readonly subsets = new Map<string, Count>();
  private readonly repeats = new Map<number, Count>();
  private readonly latencies = new NumberList();

  /** Subsets are listed in this order (the dataset's), then any others in the order they first appear. */
  constructor(subsetOrder: Iterable<string> = []) {
    for (const name of subsetOrder)
      if (!this.subsets.has(name)) this.subsets.set(name, { num: 0, correct: 0 });
  }

  add(record: TalliedRecord): void {
    this.num++;
    if (record.correct) this.correct++;
    if (record.truncated) this.truncated++;
    if (record.error !== null) this.errors++;
    // Failed requests say nothing about how fast the model answers.
    else this.latencies.push(record.latency_ms);
    if (record.usage) {
      this.usage.prompt_tokens += record.usage.prompt_tokens;
      this.usage.completion_tokens += record.usage.completion_tokens;
      this.usage.total_tokens += record.usage.total_tokens;
    }
    countInto(this.subsets, record.subset, record.correct);
    countInto(this.repeats, parseRepeatId(record.id).repeat, record.correct);
  }

  /** Samples counted so far, and how many of them were right. */
  get progress(): Count {
    return { num: this.num, correct: this.correct };
  }

  metrics(): EvalMetrics {
    return {
      num: this.num,
      score: this.num > 0 ? this.correct / this.num : 0,
      subsets: Array.from(this.subsets)
        .filter(([, { num }]) => num > 0)
        .map(([name, { num, correct }]) => ({ name, num, score: correct / num })),
      truncated: this.truncated,
      errors: this.errors,
      usage: { ...this.usage },
      latency_ms: summarizeLatency(this.latencies.values()),
    };
  }

  /** With `repeats: k` every question was asked k times: each pass's accuracy and their spread (temperature noise). */
  repeatSummary(k: number): RepeatSummary | undefined {
    if (k <= 1) return undefined;
    const { perRepeat, mean, std } = repeatStats(this.repeats);
    return {
      k,
      mean,
      std,
      per_repeat: perRepeat.map(({ repeat, num, accuracy }) => ({ repeat, num, accuracy })),
    };
  }
}

function countInto<Key>(counts: Map<Key, Count>, key: Key, correct: boolean): void {
  const count = counts.get(key) ?? { num: 0, correct: 0 };
  count.num++;
  if (correct) count.correct++;
  counts.set(key, count);
}

/**
 * Latencies as 8-byte numbers rather than a histogram: 0.8 MB for 100,000 samples, far less than the samples
 * themselves, and the percentiles stay exact (nearest rank, always a latency that was observed).
 */
class NumberList {
  private buffer = new Float64Array(1024);
  private length = 0;

  push(value: number): void {
    if (this.length === this.buffer.length) {
      const grown = new Float64Array(this.buffer.length * 2);
      grown.set(this.buffer);
      this.buffer = grown;
    }
    this.buffer[this.length++] = value;
  }

  values(): Float64Array {
    return this.buffer.subarray(0, this.length);
  }
}

/** Percentiles by the nearest-rank method (always a latency that was observed); the mean to 0.1 ms. */
export function summarizeLatency(latencies: ArrayLike<number>): LatencySummary | null {
  if (latencies.length === 0) return null;
  const sorted = Float64Array.from(latencies).sort();
  const nearestRank = (percent: number): number =>
    sorted[Math.max(0, Math.ceil((percent / 100) * sorted.length) - 1)] ?? 0;
  return {
    mean: Math.round((sorted.reduce((sum, value) => sum + value, 0) / sorted.length) * 10) / 10,
    p50: nearestRank(50),
    p90: nearestRank(90),
    p99: nearestRank(99),
    max: sorted[sorted.length - 1] ?? 0,
  };
}
