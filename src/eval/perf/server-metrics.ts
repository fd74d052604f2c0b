import type { ServerCounters } from './types.js';

/**
 * vLLM's Prometheus counters, read before and after a level to cross-check the client's counts. Names as vLLM
 * exports them (`vllm/v1/metrics/loggers.py`); `gpu_cache_usage_perc` is the name before 0.10's
 * `kv_cache_usage_perc`. Samples of one name are summed over their labels (engines, finish reasons).
 */
const COUNTERS = {
  requests: 'vllm:request_success_total',
  prompt_tokens: 'vllm:prompt_tokens_total',
  generation_tokens: 'vllm:generation_tokens_total',
  preemptions: 'vllm:num_preemptions_total',
} as const;
const KV_CACHE_USAGE = ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc'];

export type MetricSamples = Map<string, number>;

/** Sums of the samples of each metric name in Prometheus text (a `_created` sample is a name of its own). */
export function parsePrometheus(text: string): MetricSamples {
  const sums: MetricSamples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match?.[1] || match[2] === undefined) continue;
    const value = Number(match[2]);
    if (Number.isFinite(value)) sums.set(match[1], (sums.get(match[1]) ?? 0) + value);
  }
  return sums;
}

/** The text of GET /metrics, or null when the server has none (an external server behind a proxy). */
export async function scrapeMetrics(rootUrl: string, signal: AbortSignal): Promise<MetricSamples | null> {
  try {
    const response = await fetch(`${rootUrl}/metrics`, { signal });
    return response.ok ? parsePrometheus(await response.text()) : null;
  } catch (error) {
    if (signal.aborted) throw error;
    return null;
  }
}

/** What the server counted between the readings before and after a level; KV-cache usage from the busy one. */
export function counterChanges(
  before: MetricSamples | null,
  busy: MetricSamples | null,
  after: MetricSamples | null,
): ServerCounters | null {
  if (!before || !after) return null;
  const change = (name: string) => {
    const start = before.get(name);
    const end = after.get(name);
    return start === undefined || end === undefined ? null : end - start;
  };
  const kvName = KV_CACHE_USAGE.find((name) => busy?.has(name));
  return {
    requests: change(COUNTERS.requests),
    prompt_tokens: change(COUNTERS.prompt_tokens),
    generation_tokens: change(COUNTERS.generation_tokens),
    preemptions: change(COUNTERS.preemptions),
    kv_cache_usage: kvName === undefined ? null : (busy?.get(kvName) ?? null),
  };
}
