/**
 * The figures of one concurrency level, named and defined as `vllm bench serve` names them in its result JSON
 * (`vllm/benchmarks/serve.py`, `calculate_metrics`), so that the two compare one to one; docs/perf.md defines each.
 */
export interface PerfLevel {
  max_concurrency: number;
  /** Requests per second of the Poisson arrivals; null: all at once. */
  request_rate: number | null;
  num_prompts: number;
  completed: number;
  failed: number;
  /** Why requests failed, most frequent first. */
  failures: { reason: string; count: number }[];
  /** Seconds from the first request sent to the last one finished. */
  duration: number;
  total_input_tokens: number;
  total_output_tokens: number;
  request_throughput: number;
  output_throughput: number;
  total_token_throughput: number;
  ttft_ms: LatencyStats;
  tpot_ms: LatencyStats;
  itl_ms: LatencyStats;
  e2el_ms: LatencyStats;
  /** The server's own counters over the level, from /metrics; null when it exposes none. */
  server: ServerCounters | null;
}

/** Milliseconds; null where no request gave a value (every request failed, or single-token outputs for TPOT). */
export interface LatencyStats {
  mean: number | null;
  std: number | null;
  median: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
}

/** Changes of vLLM's Prometheus counters between before and after a level; a counter the server lacks is null. */
export interface ServerCounters {
  requests: number | null;
  prompt_tokens: number | null;
  generation_tokens: number | null;
  preemptions: number | null;
  /** KV-cache usage (0..1) read when the level's last request was sent, the busiest moment. */
  kv_cache_usage: number | null;
}

/** What a perf evaluation adds to its EvalResult and summary.json: one entry per concurrency level. */
export interface PerfSummary {
  /** The random prompts' input length; null for file and dataset prompts, which keep their own. */
  input_tokens: number | null;
  output_tokens: number;
  levels: PerfLevel[];
}
