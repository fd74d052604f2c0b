import type { EngineStats, FinishReason } from './engine.js';
import type { VersionRules } from './versions.js';

// `/metrics` in prometheus_client's text format (docs/vllm-versions.md §4.5): HELP/TYPE lines, label pairs sorted
// by name, float values (`8.0`), and a `_created` sample for each counter.

/** prometheus_client's floatToGoString: `8.0`, and big values in exponent form (`1.7459e+09`). */
function goFloat(n: number): string {
  const s = Number.isInteger(n) ? `${n}.0` : String(n);
  const dot = s.indexOf('.');
  if (n > 0 && dot > 6)
    return `${s[0]}.${s.slice(1, dot)}${s.slice(dot + 1)}`.replace(/\.?0+$/, '') + `e+0${dot - 1}`;
  return s;
}

export class MetricsRenderer {
  private readonly createdAt = Date.now() / 1000;
  private readonly base: Record<string, string>;

  constructor(
    private readonly rules: VersionRules,
    modelName: string,
  ) {
    this.base = rules.engineMetricLabel ? { engine: '0', model_name: modelName } : { model_name: modelName };
  }

  private labels(extra: Record<string, string> = {}): string {
    const all = { ...this.base, ...extra };
    const pairs = Object.keys(all)
      .sort()
      .map((k) => `${k}="${all[k]}"`);
    return `{${pairs.join(',')}}`;
  }

  render(stats: EngineStats): string {
    const out: string[] = [];
    const family = (name: string, type: 'gauge' | 'counter', help: string): void => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    };
    const gauge = (name: string, help: string, value: number): void => {
      family(name, 'gauge', help);
      out.push(`${name}${this.labels()} ${goFloat(value)}`);
    };
    const counter = (
      stem: string,
      help: string,
      samples: ReadonlyArray<[Record<string, string>, number]>,
    ): void => {
      family(`${stem}_total`, 'counter', help);
      // prometheus_client writes each child's `_total` and `_created` samples together.
      for (const [extra, value] of samples) {
        out.push(
          `${stem}_total${this.labels(extra)} ${goFloat(value)}`,
          `${stem}_created${this.labels(extra)} ${goFloat(this.createdAt)}`,
        );
      }
    };

    gauge('vllm:num_requests_running', 'Number of requests in model execution batches.', stats.running);
    gauge('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', stats.waiting);
    if (this.rules.gpuCacheUsageMetric) {
      const deprecated = this.rules.kvCacheUsageMetric
        ? 'DEPRECATED: Use vllm:kv_cache_usage_perc instead.'
        : '';
      gauge(
        'vllm:gpu_cache_usage_perc',
        `GPU KV-cache usage. 1 means 100 percent usage.${deprecated}`,
        stats.kvUsage,
      );
    }
    if (this.rules.kvCacheUsageMetric) {
      gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', stats.kvUsage);
    }
    counter('vllm:prompt_tokens', 'Number of prefill tokens processed.', [[{}, stats.promptTokens]]);
    counter('vllm:generation_tokens', 'Number of generation tokens processed.', [
      [{}, stats.generationTokens],
    ]);
    const reasons: FinishReason[] = ['stop', 'length', 'abort'];
    counter(
      'vllm:request_success',
      'Count of successfully processed requests.',
      reasons.map((r) => [{ finished_reason: r }, stats.finished[r]]),
    );
    return `${out.join('\n')}\n`;
  }
}
