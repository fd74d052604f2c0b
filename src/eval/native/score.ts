import { repeatStats } from '../../datasets/repeats.js';
import type { EvalMetrics, LatencySummary, PredictionRecord, RepeatSummary, SubsetScore } from '../types.js';

/**
 * Aggregates per-sample records the way EvalScope's report does: the overall score is the micro
 * mean over all samples (its OVERALL row), not the mean of the subset scores. Errors and truncations
 * are in `num` and count as wrong, because `correct` is false for them.
 */
export function computeMetrics(records: PredictionRecord[]): EvalMetrics {
  const usage = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };
  let correct = 0;
  let truncated = 0;
  let errors = 0;
  for (const record of records) {
    if (record.correct) correct++;
    if (record.truncated) truncated++;
    if (record.error !== null) errors++;
    if (record.usage) {
      usage.prompt_tokens += record.usage.prompt_tokens;
      usage.completion_tokens += record.usage.completion_tokens;
      usage.total_tokens += record.usage.total_tokens;
    }
  }
  // Failed requests say nothing about how fast the model answers.
  const latencies = records.filter((record) => record.error === null).map((record) => record.latency_ms);
  return {
    num: records.length,
    score: records.length > 0 ? correct / records.length : 0,
    subsets: subsetScores(records),
    truncated,
    errors,
    usage,
    latency_ms: summarizeLatency(latencies),
  };
}

/** One score per subset, in the order the subsets first appear in `records`. */
function subsetScores(records: PredictionRecord[]): SubsetScore[] {
  const tallies = new Map<string, { num: number; correct: number }>();
  for (const record of records) {
    const tally = tallies.get(record.subset) ?? { num: 0, correct: 0 };
    tally.num++;
    if (record.correct) tally.correct++;
    tallies.set(record.subset, tally);
  }
  return Array.from(tallies, ([name, { num, correct }]) => ({ name, num, score: correct / num }));
}

/** Percentiles by the nearest-rank method (always a latency that was observed); the mean to 0.1 ms. */
export function summarizeLatency(latencies: number[]): LatencySummary | null {
  if (latencies.length === 0) return null;
  const sorted = [...latencies].sort((a, b) => a - b);
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

/** With `repeats: k` every question was asked k times: each pass's accuracy and their spread (temperature noise). */
export function summarizeRepeats(records: readonly PredictionRecord[], k: number): RepeatSummary | undefined {
  if (k <= 1) return undefined;
  const stats = repeatStats(records.filter(Boolean));
  return {
    k,
    mean: stats.mean,
    std: stats.std,
    per_repeat: stats.perRepeat.map(({ repeat, num, accuracy }) => ({ repeat, num, accuracy })),
  };
}
