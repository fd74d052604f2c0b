import type { Sample } from '../datasets/types.js';

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
  usage: TokenUsage | null;
  latency_ms: number;
  /** Time to first token, streamed requests only. */
  ttft_ms: number | null;
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
  wall_ms: number;
  predictions_file: string;
  repeats?: RepeatSummary;
}

export type { Sample };
