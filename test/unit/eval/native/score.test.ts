import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../../../src/datasets/types.js';
import { ScoreTally, scoreCompletion, summarizeLatency } from '../../../../src/eval/native/score.js';
import type { EvalMetrics, PredictionRecord } from '../../../../src/eval/types.js';
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
    error_kind: null,
    usage: null,
    ttft_ms: null,
    latency_ms: 100,
    attempts: 1,
    ...extra,
  };
}

function records(subset: string, correct: number, num: number): PredictionRecord[] {
  return Array.from({ length: num }, (_, index) => record(subset, index < correct));
}

function metricsOf(all: PredictionRecord[], subsetOrder: string[] = []): EvalMetrics {
  const tally = new ScoreTally(subsetOrder);
  all.forEach((one) => tally.add(one));
  return tally.metrics();
}

interface ReportV1 {
  score: number;
  metrics: { categories: { subsets: { name: string; score: number; num: number }[] }[] }[];
}

describe('ScoreTally', () => {
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
    const metrics = metricsOf(fromReviews('newer'));
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
    const metrics = metricsOf(fromReviews('older'));
    expect(metrics.score).toBeCloseTo(0.45, 10);
    expect(metrics.score).toBeCloseTo(report.score, 10);
    expect(metrics.subsets).toEqual([
      { name: 'IQ', num: 10, score: 0.6 },
      { name: 'EQ', num: 10, score: 0.3 },
    ]);
    expect(metrics.subsets).toEqual(report.metrics[0]?.categories[0]?.subsets);
  });

  it('takes the micro mean over samples, not the mean of subset scores (MiniMax-M2: 84/120)', () => {
    const metrics = metricsOf([...records('IQ', 33, 40), ...records('EQ', 51, 80)]);
    expect(metrics.subsets).toEqual([
      { name: 'IQ', num: 40, score: 0.825 },
      { name: 'EQ', num: 80, score: 0.6375 },
    ]);
    expect(metrics.score).toBeCloseTo(0.7, 10);
    expect(metrics.num).toBe(120);
  });

  it('lists subsets in the order they first appear', () => {
    const metrics = metricsOf([record('EQ', true), record('IQ', false), record('EQ', false)]);
    expect(metrics.subsets.map((subset) => subset.name)).toEqual(['EQ', 'IQ']);
  });

  it("lists subsets in the dataset's order whatever order the answers come in, leaving out empty ones", () => {
    const metrics = metricsOf([record('EQ', true), record('IQ', false)], ['IQ', 'XQ', 'EQ']);
    expect(metrics.subsets.map((subset) => subset.name)).toEqual(['IQ', 'EQ']);
  });

  it('counts errors and truncations as wrong answers that are still in num', () => {
    const metrics = metricsOf([
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
    const metrics = metricsOf([
      record('IQ', true, { usage: usage(100, 20) }),
      record('IQ', true, { usage: null }),
      record('EQ', true, { usage: usage(150, 30) }),
    ]);
    expect(metrics.usage).toEqual({ prompt_tokens: 250, completion_tokens: 50, total_tokens: 300 });
  });

  it('leaves failed requests out of the latency summary', () => {
    const metrics = metricsOf([
      record('IQ', true, { latency_ms: 200 }),
      record('IQ', false, { latency_ms: 1, error: 'connection refused' }),
    ]);
    expect(metrics.latency_ms).toEqual({ mean: 200, p50: 200, p90: 200, p99: 200, max: 200 });
  });

  it('keeps every latency for exact percentiles, however many samples', () => {
    const many = Array.from({ length: 5000 }, (_, index) => record('IQ', true, { latency_ms: index + 1 }));
    expect(metricsOf(many).latency_ms).toEqual({ mean: 2500.5, p50: 2500, p90: 4500, p99: 4950, max: 5000 });
  });

  it('counts progress as records come in', () => {
    const tally = new ScoreTally();
    tally.add(record('IQ', true));
    tally.add(record('IQ', false));
    expect(tally.progress).toEqual({ num: 2, correct: 1 });
  });

  it('handles no records at all', () => {
    expect(metricsOf([])).toEqual({
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

describe('ScoreTally.repeatSummary', () => {
  const pass = (repeat: number, correct: number, num: number) =>
    Array.from({ length: num }, (_, index) => record('IQ', index < correct, { id: `Q-${index}#r${repeat}` }));

  it("gives each pass's accuracy and their mean and sample standard deviation", () => {
    const tally = new ScoreTally();
    [...pass(2, 6, 10), ...pass(1, 8, 10), ...pass(3, 7, 10)].forEach((one) => tally.add(one));
    const summary = tally.repeatSummary(3);
    expect(summary?.per_repeat).toEqual([
      { repeat: 1, num: 10, accuracy: 0.8 },
      { repeat: 2, num: 10, accuracy: 0.6 },
      { repeat: 3, num: 10, accuracy: 0.7 },
    ]);
    expect(summary?.k).toBe(3);
    expect(summary?.mean).toBeCloseTo(0.7, 10);
    expect(summary?.std).toBeCloseTo(0.1, 10);
  });

  it('is absent without repeats', () => {
    const tally = new ScoreTally();
    pass(1, 1, 2).forEach((one) => tally.add(one));
    expect(tally.repeatSummary(1)).toBeUndefined();
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

describe('scoreCompletion', () => {
  const sample: Sample = {
    id: 'IQ-3',
    subset: 'IQ',
    question: '1+1?',
    choices: ['1', '2', '3'],
    answer: 'B',
    meta: {},
  };
  const completion = (content: string | null, finishReason = 'stop', extra = {}) => ({
    message: { content, ...extra },
    finishReason,
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    ttftMs: 12,
    latencyMs: 40,
  });

  it('scores a correct answer and keeps what the record needs', () => {
    expect(scoreCompletion(sample, 'P', completion('1+1=2\n答案：B'))).toEqual({
      id: 'IQ-3',
      subset: 'IQ',
      prompt: 'P',
      content: '1+1=2\n答案：B',
      reasoning: null,
      extracted: 'B',
      gold: 'B',
      correct: true,
      finish_reason: 'stop',
      truncated: false,
      error: null,
      error_kind: null,
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      ttft_ms: 12,
    });
  });

  it('extracts from content only, never from reasoning', () => {
    const scored = scoreCompletion(sample, 'P', completion(null, 'stop', { reasoning_content: '答案：B' }));
    expect(scored).toMatchObject({ content: null, reasoning: '答案：B', extracted: null, correct: false });
  });

  it('strips inline thinking before extracting', () => {
    const scored = scoreCompletion(sample, 'P', completion('<think>答案：A？</think>\n答案：B'));
    expect(scored).toMatchObject({ reasoning: '答案：A？', extracted: 'B', correct: true });
  });

  it('marks a length stop without an answer as truncated, and wrong', () => {
    expect(scoreCompletion(sample, 'P', completion('<think>还在想', 'length'))).toMatchObject({
      truncated: true,
      correct: false,
      extracted: null,
      finish_reason: 'length',
    });
  });

  it('does not mark a length stop that still gave an answer as truncated', () => {
    expect(scoreCompletion(sample, 'P', completion('答案：C', 'length'))).toMatchObject({
      truncated: false,
      extracted: 'C',
      correct: false,
    });
  });

  it('makes an empty, wrong record when there was no completion', () => {
    expect(scoreCompletion(sample, 'P', null)).toMatchObject({
      content: null,
      reasoning: null,
      extracted: null,
      correct: false,
      finish_reason: null,
      truncated: false,
      usage: null,
      ttft_ms: null,
    });
  });
});
