import type { Sample } from '../datasets/types.js';
import type { PerfSummary } from './perf/types.js';

/** An OpenAI-compatible endpoint that is ready to take requests. */
export interface Endpoint {
  /** Base URL including `/v1`, as the `openai` client wants it. */
  baseUrl: string;
  apiKey?: string;
  servedModel: string;
  maxModelLen?: number;
}

export interface TokenUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/**
 * Why a request failed for good. `transient`: a failure that might pass on its own (5xx, 429, a refused or broken
 * connection, a stall) that lasted through every retry; a resumed evaluation asks such a sample again. `permanent`:
 * the server refused the request itself (400 such as the context-length error, 401, 404) or the answer outgrew
 * `max_request_time`; never retried, and kept on resume.
 */
export type ErrorKind = 'transient' | 'permanent';

/** One line of `predictions.jsonl`, appended as each sample finishes. */
export interface PredictionRecord {
  id: string;
  subset: string;
  prompt: string;
  content: string | null;
  reasoning: string | null;
  extracted: string | null;
  gold: string;
  correct: boolean;
  finish_reason: string | null;
  truncated: boolean;
  error: string | null;
  error_kind: ErrorKind | null;
  usage: TokenUsage | null;
  /** Time to first token, streamed requests only. */
  ttft_ms: number | null;
  /** The attempt that answered; for a failed request, the time from its first attempt until it was given up. */
  latency_ms: number;
  /** Requests sent for this sample: 1 plus its retries. */
  attempts: number;
}

export interface SubsetScore {
  name: string;
  num: number;
  score: number;
}

export interface LatencySummary {
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface EvalMetrics {
  num: number;
  /** Micro mean over all samples, as EvalScope's OVERALL row. Fraction 0..1. */
  score: number;
  subsets: SubsetScore[];
  truncated: number;
  errors: number;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  latency_ms: LatencySummary | null;
}

/** With `repeats: k`, every question is asked k times: the accuracy of each pass and their spread. */
export interface RepeatSummary {
  k: number;
  mean: number;
  std: number;
  per_repeat: { repeat: number; num: number; accuracy: number }[];
}

export interface EvalResult extends EvalMetrics {
  name: string;
  backend: string;
  dataset: string;
  metric: string;
  /** Requests sent again after a transient failure, over every prediction line of the samples counted. */
  retries: number;
  wall_ms: number;
  predictions_file: string;
  /** With `resume`: samples whose finished records came from an earlier, interrupted run of this evaluation. */
  resumed?: number;
  repeats?: RepeatSummary;
  /** A perf evaluation's figures per concurrency level (docs/perf.md). */
  perf?: PerfSummary;
}

export type { Sample };
