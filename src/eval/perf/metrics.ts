import type { LatencyStats, PerfLevel, ServerCounters } from './types.js';

/** One measured request, as the stream client reports it. Times in milliseconds from the request's send. */
export type RequestOutcome =
  | {
      ok: true;
      ttftMs: number;
      /** Gaps between consecutive chunks after the first, one per chunk (vLLM's `itl`). */
      itlMs: number[];
      latencyMs: number;
      promptTokens: number;
      outputTokens: number;
    }
  | { ok: false; reason: string };

/** numpy.percentile's default (linear interpolation between closest ranks), which vLLM's figures use. */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = (p / 100) * (sorted.length - 1);
  const below = Math.floor(rank);
  const low = sorted[below] ?? 0;
  const high = sorted[Math.min(below + 1, sorted.length - 1)] ?? low;
  return low + (high - low) * (rank - below);
}

/** Mean, population standard deviation (numpy.std) and percentiles of samples in milliseconds. */
export function latencyStats(samples: readonly number[]): LatencyStats {
  if (samples.length === 0) return { mean: null, std: null, median: null, p90: null, p95: null, p99: null };
  const sorted = Float64Array.from(samples).sort();
  const values = Array.from(sorted);
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length;
  return {
    mean,
    std: Math.sqrt(variance),
    median: percentile(values, 50),
    p90: percentile(values, 90),
    p95: percentile(values, 95),
    p99: percentile(values, 99),
  };
}

/** Failure reasons counted, most frequent first. */
function countReasons(outcomes: readonly RequestOutcome[]): PerfLevel['failures'] {
  const counts = new Map<string, number>();
  for (const outcome of outcomes) {
    if (!outcome.ok) counts.set(outcome.reason, (counts.get(outcome.reason) ?? 0) + 1);
  }
  return [...counts].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);
}

export interface LevelRun {
  concurrency: number;
  rate: number | null;
  outcomes: readonly RequestOutcome[];
  durationS: number;
  server: ServerCounters | null;
}

/**
 * A level's figures as `calculate_metrics` in vLLM's `vllm/benchmarks/serve.py` computes them: TPOT is
 * (latency − TTFT) / (output tokens − 1) for outputs longer than one token, ITL pools every chunk gap of every
 * request, throughputs divide by the level's wall time; only successful requests count.
 */
export function levelMetrics(run: LevelRun): PerfLevel {
  const ttfts: number[] = [];
  const tpots: number[] = [];
  const itls: number[] = [];
  const e2els: number[] = [];
  let inputTokens = 0;
  let outputTokens = 0;
  let completed = 0;
  for (const outcome of run.outcomes) {
    if (!outcome.ok) continue;
    completed += 1;
    inputTokens += outcome.promptTokens;
    outputTokens += outcome.outputTokens;
    ttfts.push(outcome.ttftMs);
    e2els.push(outcome.latencyMs);
    for (const gap of outcome.itlMs) itls.push(gap);
    if (outcome.outputTokens > 1)
      tpots.push((outcome.latencyMs - outcome.ttftMs) / (outcome.outputTokens - 1));
  }
  const perSecond = (count: number) => (run.durationS > 0 ? count / run.durationS : 0);
  return {
    max_concurrency: run.concurrency,
    request_rate: run.rate,
    num_prompts: run.outcomes.length,
    completed,
    failed: run.outcomes.length - completed,
    failures: countReasons(run.outcomes),
    duration: run.durationS,
    total_input_tokens: inputTokens,
    total_output_tokens: outputTokens,
    request_throughput: perSecond(completed),
    output_throughput: perSecond(outputTokens),
    total_token_throughput: perSecond(inputTokens + outputTokens),
    ttft_ms: latencyStats(ttfts),
    tpot_ms: latencyStats(tpots),
    itl_ms: latencyStats(itls),
    e2el_ms: latencyStats(e2els),
    server: run.server,
  };
}
