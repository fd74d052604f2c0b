import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeMetrics, summarizeLatency } from '../../../../src/eval/native/score.js';
import type { PredictionRecord } from '../../../../src/eval/types.js';
import { readReviews, reportPath, type ReviewFormat } from './evalscope-reviews.js';

function record(subset: string, correct: boolean, extra: Partial<PredictionRecord> = {}): PredictionRecord {
  return {
    id: `${subset}-0`,
    subset,
    prompt: '',
    content: null,
    reasoning: null,
    extracted: null,
    gold: 'A',
    correct,
    finish_reason: 'stop',
    truncated: false,
    error: null,
    usage: null,
    latency_ms: 100,
    ttft_ms: null,
    ...extra,
  };
}

function records(subset: string, correct: number, num: number): PredictionRecord[] {
  return Array.from({ length: num }, (_, index) => record(subset, index < correct));
}

interface ReportV1 {
  score: number;
  metrics: { categories: { subsets: { name: string; score: number; num: number }[] }[] }[];
}

describe('computeMetrics', () => {
  function fromReviews(format: ReviewFormat): PredictionRecord[] {
    return (['IQ', 'EQ'] as const).flatMap((subset) =>
      readReviews(format, subset).map((review) => record(subset, review.sample_score.score.value.acc === 1)),
    );
  }

  function readReport(format: ReviewFormat): ReportV1 {
    return JSON.parse(readFileSync(reportPath(format), 'utf8')) as ReportV1;
  }

  it("recomputes the newer-format report's scores from its review files", () => {
    const report = readReport('newer');
    const metrics = computeMetrics(fromReviews('newer'));
    expect(metrics.num).toBe(20);
    expect(metrics.score).toBeCloseTo(0.8, 10);
    expect(metrics.score).toBeCloseTo(report.score, 10);
    expect(metrics.subsets).toEqual([
      { name: 'IQ', num: 10, score: 0.9 },
      { name: 'EQ', num: 10, score: 0.7 },
    ]);
    expect(metrics.subsets).toEqual(report.metrics[0]?.categories[0]?.subsets);
  });

  it("recomputes the older-format report's scores from its review files", () => {
    const report = readReport('older');
    const metrics = computeMetrics(fromReviews('older'));
    expect(metrics.score).toBeCloseTo(0.45, 10);
    expect(metrics.score).toBeCloseTo(report.score, 10);
    expect(metrics.subsets).toEqual([
      { name: 'IQ', num: 10, score: 0.6 },
      { name: 'EQ', num: 10, score: 0.3 },
    ]);
    expect(metrics.subsets).toEqual(report.metrics[0]?.categories[0]?.subsets);
  });

  it('takes the micro mean over samples, not the mean of subset scores (MiniMax-M2: 84/120)', () => {
    const metrics = computeMetrics([...records('IQ', 33, 40), ...records('EQ', 51, 80)]);
    expect(metrics.subsets).toEqual([
      { name: 'IQ', num: 40, score: 0.825 },
      { name: 'EQ', num: 80, score: 0.6375 },
    ]);
    expect(metrics.score).toBeCloseTo(0.7, 10);
    expect(metrics.num).toBe(120);
  });

  it('lists subsets in the order they first appear', () => {
    const metrics = computeMetrics([record('EQ', true), record('IQ', false), record('EQ', false)]);
    expect(metrics.subsets.map((subset) => subset.name)).toEqual(['EQ', 'IQ']);
  });

  it('counts errors and truncations as wrong answers that are still in num', () => {
    const metrics = computeMetrics([
      record('IQ', true),
      record('IQ', false, { error: 'HTTP 500: boom', latency_ms: 5 }),
      record('IQ', false, { truncated: true, finish_reason: 'length' }),
      record('IQ', true),
    ]);
    expect(metrics).toMatchObject({ num: 4, score: 0.5, errors: 1, truncated: 1 });
    expect(metrics.subsets).toEqual([{ name: 'IQ', num: 4, score: 0.5 }]);
  });

  it('sums token usage over the records that have it', () => {
    const usage = (prompt: number, completion: number) => ({
      prompt_tokens: prompt,
      completion_tokens: completion,
      total_tokens: prompt + completion,
    });
    const metrics = computeMetrics([
      record('IQ', true, { usage: usage(100, 20) }),
      record('IQ', true, { usage: null }),
      record('EQ', true, { usage: usage(150, 30) }),
    ]);
    expect(metrics.usage).toEqual({ prompt_tokens: 250, completion_tokens: 50, total_tokens: 300 });
  });

  it('leaves failed requests out of the latency summary', () => {
    const metrics = computeMetrics([
      record('IQ', true, { latency_ms: 200 }),
      record('IQ', false, { latency_ms: 1, error: 'connection refused' }),
    ]);
    expect(metrics.latency_ms).toEqual({ mean: 200, p50: 200, p90: 200, p99: 200, max: 200 });
  });

  it('handles no records at all', () => {
    expect(computeMetrics([])).toEqual({
      num: 0,
      score: 0,
      subsets: [],
      truncated: 0,
      errors: 0,
      usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
      latency_ms: null,
    });
  });
});

describe('summarizeLatency', () => {
  it('uses nearest-rank percentiles', () => {
    const oneToHundred = Array.from({ length: 100 }, (_, index) => 100 - index);
    expect(summarizeLatency(oneToHundred)).toEqual({ mean: 50.5, p50: 50, p90: 90, p99: 99, max: 100 });
    expect(summarizeLatency([30, 10, 20])).toEqual({ mean: 20, p50: 20, p90: 30, p99: 30, max: 30 });
  });

  it('is null without samples', () => {
    expect(summarizeLatency([])).toBeNull();
  });
});
