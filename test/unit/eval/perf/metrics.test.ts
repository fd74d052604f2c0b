import { describe, expect, it } from 'vitest';
import {
  latencyStats,
  levelMetrics,
  percentile,
  type RequestOutcome,
} from '../../../../src/eval/perf/metrics.js';

describe('percentile', () => {
  it('interpolates linearly between ranks, as numpy.percentile', () => {
    const sorted = [1, 2, 3, 4];
    expect(percentile(sorted, 50)).toBe(2.5);
    expect(percentile(sorted, 90)).toBeCloseTo(3.7);
    expect(percentile(sorted, 99)).toBeCloseTo(3.97);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('latencyStats', () => {
  it('gives the mean, the population standard deviation and the percentiles', () => {
    const stats = latencyStats([4, 2, 6, 8]);
    expect(stats).toMatchObject({ mean: 5, median: 5 });
    expect(stats.std).toBeCloseTo(Math.sqrt(5));
    expect(stats.p95).toBeCloseTo(7.7);
  });
});

describe('levelMetrics', () => {
  const ok = (ttftMs: number, latencyMs: number, outputTokens: number): RequestOutcome => ({
    ok: true,
    ttftMs,
    itlMs: [10, 20],
    latencyMs,
    promptTokens: 100,
    outputTokens,
  });

  it("computes vLLM's figures from the successful requests and counts the failures by reason", () => {
    const level = levelMetrics({
      concurrency: 4,
      rate: null,
      durationS: 2,
      server: null,
      outcomes: [
        ok(50, 150, 11),
        ok(70, 70, 1),
        { ok: false, reason: 'HTTP 500: boom' },
        { ok: false, reason: 'HTTP 500: boom' },
        { ok: false, reason: 'aborted' },
      ],
    });
    expect(level).toMatchObject({
      max_concurrency: 4,
      num_prompts: 5,
      completed: 2,
      failed: 3,
      failures: [
        { reason: 'HTTP 500: boom', count: 2 },
        { reason: 'aborted', count: 1 },
      ],
      total_input_tokens: 200,
      total_output_tokens: 12,
      request_throughput: 1,
      output_throughput: 6,
      total_token_throughput: 106,
    });
    // TPOT only for outputs longer than one token: (150 − 50) / (11 − 1).
    expect(level.tpot_ms).toMatchObject({ mean: 10, median: 10 });
    expect(level.ttft_ms.median).toBe(60);
    expect(level.itl_ms).toMatchObject({ mean: 15, median: 15 });
    expect(level.e2el_ms.mean).toBe(110);
  });
});
