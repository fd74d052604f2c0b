import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { percentile } from '../eval/perf/metrics.js';
import type { EvalResult, PredictionRecord } from '../eval/types.js';
import { evalDirOf } from '../run/run-dir.js';
import { writeFileAtomic, writeJsonAtomic } from '../util/atomic-write.js';
import { readPredictions, type RunFolder } from './run-folder.js';

/** Where a native evaluation's results are written again in EvalScope's 1.x layout, inside its eval folder. */
export const EVALSCOPE_LAYOUT_DIR = 'evalscope';

type Json = Record<string, unknown>;

const round = (value: number): number => Math.round(value * 1e6) / 1e6;

/** The figures EvalScope gives for each per-request measure; null where no request measured it. */
function distribution(values: readonly number[]): Json {
  const keys = ['mean', 'std', 'min', '25%', '50%', '75%', '90%', '99%', 'max'];
  if (values.length === 0) return Object.fromEntries(keys.map((key) => [key, null]));
  const sorted = [...values].sort((a, b) => a - b);
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
  const variance =
    values.length < 2 ? 0 : values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (values.length - 1);
  const figures = [
    mean,
    Math.sqrt(variance),
    sorted[0]!,
    ...[25, 50, 75, 90, 99].map((p) => percentile(sorted, p)!),
    sorted.at(-1)!,
  ];
  return Object.fromEntries(keys.map((key, index) => [key, round(figures[index]!)]));
}

/** Seconds per output token after the first, as EvalScope measures it; only for streamed answers. */
function tpotOf(record: PredictionRecord): number | null {
  const output = record.usage?.completion_tokens ?? 0;
  if (record.ttft_ms === null || output < 2) return null;
  return (record.latency_ms - record.ttft_ms) / 1000 / (output - 1);
}

function perfMetricsOf(record: PredictionRecord): Json | null {
  if (record.error !== null) return null;
  return {
    latency: record.latency_ms / 1000,
    ttft: record.ttft_ms === null ? null : record.ttft_ms / 1000,
    input_tokens: record.usage?.prompt_tokens ?? null,
    output_tokens: record.usage?.completion_tokens ?? null,
    tpot: tpotOf(record),
  };
}

function performanceSummary(result: EvalResult, records: readonly PredictionRecord[]): Json {
  const answered = records.filter((record) => record.error === null);
  const numbers = (pick: (record: PredictionRecord) => number | null | undefined): number[] =>
    answered.map(pick).filter((value): value is number => typeof value === 'number');
  const wallS = result.wall_ms / 1000;
  const perSecond = (count: number): number => (wallS > 0 ? round(count / wallS) : 0);
  return {
    n_samples: records.length,
    latency: distribution(numbers((record) => record.latency_ms / 1000)),
    throughput: {
      avg_output_tps: perSecond(result.usage.completion_tokens),
      avg_req_ps: perSecond(answered.length),
    },
    usage: {
      input_tokens: distribution(numbers((record) => record.usage?.prompt_tokens)),
      output_tokens: distribution(numbers((record) => record.usage?.completion_tokens)),
      total_tokens: distribution(numbers((record) => record.usage?.total_tokens)),
      total_input_tokens: result.usage.prompt_tokens,
      total_output_tokens: result.usage.completion_tokens,
      total_tokens_count: result.usage.total_tokens,
    },
    ttft: distribution(numbers((record) => (record.ttft_ms === null ? null : record.ttft_ms / 1000))),
    tpot: distribution(numbers(tpotOf)),
  };
}

/** `reports/<model>/<dataset>.json` as EvalScope 1.x writes it: one metric, one category, the subsets. */
export function renderReport(model: string, result: EvalResult, records: readonly PredictionRecord[]): Json {
  const macro =
    result.subsets.length === 0
      ? 0
      : result.subsets.reduce((sum, subset) => sum + subset.score, 0) / result.subsets.length;
  const totals = { num: result.num, score: round(result.score), macro_score: round(macro) };
  return {
    name: `${model}@${result.dataset}`,
    dataset_name: result.dataset,
    dataset_pretty_name: result.dataset,
    dataset_description: `${result.dataset}, evaluated by evalrig's native evaluator`,
    model_name: model,
    score: totals.score,
    metrics: [
      {
        name: result.metric,
        ...totals,
        categories: [
          {
            name: ['default'],
            ...totals,
            subsets: result.subsets.map(({ name, score, num }) => ({ name, score: round(score), num })),
          },
        ],
      },
    ],
    analysis: 'N/A',
    perf_metrics: { summary: performanceSummary(result, records) },
    num: result.num,
  };
}

function messagesOf(record: PredictionRecord, index: number, model: string): Json[] {
  const user = {
    id: `user-${index}`,
    content: record.prompt,
    source: null,
    metadata: null,
    internal: null,
    perf_metrics: null,
    role: 'user',
    tool_call_id: null,
  };
  if (record.content === null) return [user];
  const assistant = {
    id: `assistant-${index}`,
    content: record.content,
    source: 'generate',
    metadata: null,
    internal: null,
    perf_metrics: perfMetricsOf(record),
    role: 'assistant',
    tool_calls: null,
    model,
  };
  return [user, assistant];
}

/** One line of `reviews/<model>/<dataset>_<subset>.jsonl`. */
export function renderReview(record: PredictionRecord, index: number, model: string): Json {
  return {
    index,
    target: record.gold,
    messages: messagesOf(record, index, model),
    trajectory: [],
    sample_score: {
      score: {
        value: { acc: record.correct ? 1 : 0 },
        extracted_prediction: record.extracted ?? '',
        prediction: record.content ?? '',
        explanation: null,
        metadata: {},
        main_score_name: null,
      },
      sample_id: index,
      group_id: index,
      // predictions.jsonl does not keep the sample's difficulty level.
      sample_metadata: { level: null },
    },
  };
}

/** One line of `predictions/<model>/<dataset>_<subset>.jsonl`. */
export function renderPrediction(record: PredictionRecord, index: number, model: string): Json {
  const messages = messagesOf(record, index, model);
  const usage = record.usage;
  return {
    index,
    model,
    model_output: {
      id: record.id,
      model,
      choices: messages.slice(1).map((message) => ({
        message,
        stop_reason: record.finish_reason ?? 'unknown',
        logprobs: null,
      })),
      usage: {
        input_tokens: usage?.prompt_tokens ?? 0,
        output_tokens: usage?.completion_tokens ?? 0,
        total_tokens: usage?.total_tokens ?? 0,
        input_tokens_cache_write: null,
        input_tokens_cache_read: null,
        reasoning_tokens: null,
      },
      time: record.latency_ms / 1000,
      metadata: null,
      error: record.error,
      perf_metrics: perfMetricsOf(record),
    },
    messages,
    metadata: { level: null },
  };
}

/** EvalScope names the model folder by the model's last path segment (`Qwen/Qwen3-8B` → `Qwen3-8B`). */
function modelIdOf(model: string): string {
  return model.split('/').filter(Boolean).at(-1) ?? model;
}

const jsonLines = (lines: readonly Json[]): string =>
  lines.map((line) => `${JSON.stringify(line)}\n`).join('');

/**
 * Each native evaluation with a result.json, again in EvalScope 1.x's layout under
 * `evals/<name>/evalscope/`, so that EvalScope's viewer opens it. Returns the folders written.
 */
export function writeEvalScopeLayouts(folder: RunFolder): string[] {
  const model = modelIdOf(folder.summary.model);
  const written: string[] = [];
  for (const evalSummary of folder.summary.evals) {
    const result = evalSummary.result;
    if (evalSummary.backend !== 'native' || !result) continue;
    const records = readPredictions(folder.dir, evalSummary.name);
    const root = join(evalDirOf(folder.dir, evalSummary.name), EVALSCOPE_LAYOUT_DIR);
    for (const kind of ['reports', 'reviews', 'predictions'])
      mkdirSync(join(root, kind, model), { recursive: true });
    writeJsonAtomic(
      join(root, 'reports', model, `${result.dataset}.json`),
      renderReport(model, result, records),
    );
    for (const subset of new Set(records.map((record) => record.subset))) {
      const ofSubset = records.filter((record) => record.subset === subset);
      const file = `${result.dataset}_${subset}.jsonl`;
      writeFileAtomic(
        join(root, 'reviews', model, file),
        jsonLines(ofSubset.map((record, index) => renderReview(record, index, model))),
      );
      writeFileAtomic(
        join(root, 'predictions', model, file),
        jsonLines(ofSubset.map((record, index) => renderPrediction(record, index, model))),
      );
    }
    written.push(root);
  }
  return written;
}
