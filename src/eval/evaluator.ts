import type { DatasetProvenance, Sample } from '../datasets/types.js';
import type { EvalSpec, Plan } from '../plan/schema.js';
import type { RunDisplay } from '../util/display.js';
import type { Endpoint, EvalMetrics, EvalResult } from './types.js';

export interface PrepareContext {
  /** Folder of the plan file: relative dataset paths resolve against it. */
  planDir: string;
  /** The plan's dataset settings (cache folder, offline mode). */
  datasets: Plan['datasets'];
  signal: AbortSignal;
  display: RunDisplay;
}

/** An evaluation with its data loaded and checked: ready to run once the server is. */
export interface PreparedEval {
  spec: EvalSpec;
  samples: Sample[];
  provenance: DatasetProvenance;
  /** Records that were skipped, as `file:line: why`. */
  problems: string[];
  /** What one request may need at most, checked against max_model_len before the server starts. */
  requestBudget?: RequestBudget;
}

export interface RequestBudget {
  /** The longest prompt's tokens, estimated from below (token-estimate.ts). */
  longestPromptTokens: number;
  /** `generation.max_tokens`; absent: vLLM fills the context, nothing to check. */
  maxTokens?: number;
}

export interface EvalContext {
  runDir: string;
  /** evals/<name>/ in the run directory, created before run() is called. */
  evalDir: string;
  /** Aborted on interruption or when the server dies: stop promptly, keep what is on disk. */
  signal: AbortSignal;
  display: RunDisplay;
  /** Hides the plan's secrets in texts that reach a file or the console (request errors quote response bodies). */
  mask: (text: string) => string;
  /**
   * Continue an interrupted run of this evaluation in evalDir: samples whose newest prediction is finished (an
   * answer or a permanent error) are counted as they are (the result's `resumed` says how many), the rest are asked
   * again. Without it evalDir's predictions start afresh.
   */
  resume?: boolean;
}

/**
 * One way of evaluating (native, evalscope, perf). `prepare` runs before the server starts, so a missing or
 * broken dataset costs no GPU time; `run` gets the prepared data and a ready endpoint.
 */
export interface Evaluator {
  backend: EvalSpec['backend'];
  /** What `plan --dry-run` shows of the evaluation, and the names its summary row carries before any result. */
  describe(spec: EvalSpec): EvalDescription;
  /**
   * Finds on this host what `describe` needs and the plan leaves open (the installed tool's version), for a dry
   * run or `validate`: bounded in time, stopped by `ctx.signal`. Without it the plan's spec is described as it is.
   */
  resolve?(spec: EvalSpec, ctx: ResolveContext): Promise<ResolvedEval>;
  prepare(spec: EvalSpec, ctx: PrepareContext): Promise<PreparedEval>;
  run(prepared: PreparedEval, endpoint: Endpoint, ctx: EvalContext): Promise<EvalResult>;
  /** Loads the modules `run` needs ahead of it, while vLLM loads; `run` loads them itself otherwise. */
  preload?(): Promise<void>;
  /**
   * How far the evaluation got, from what is on disk in `evalDir`, and what a resume does with it. Without it
   * the run counts the prepared samples' finished predictions (and says that one without samples runs again).
   */
  progress?(prepared: PreparedEval, evalDir: string): EvalProgress;
  /**
   * The figures of the samples answered before the evaluation was stopped, from what is on disk in `evalDir`
   * (the samples a resume keeps). Without it a stopped evaluation's row has none.
   */
  answeredSoFar?(prepared: PreparedEval, evalDir: string): Promise<EvalMetrics>;
}

/** How far an evaluation of a run that ended early got, and what a resumed run does with it. */
export interface EvalProgress {
  /** Samples answered; null where the evaluator cannot tell. */
  done: number | null;
  /** Samples in all; null where evalrig does not know them (EvalScope reads its own datasets). */
  total: number | null;
  /** For people: what a resumed run does with this evaluation. */
  resume: string;
}

export interface ResolveContext {
  /** The command's interruption: whatever the lookup started is ended. */
  signal: AbortSignal;
}

export interface ResolvedEval {
  /** The spec with what was found filled in, as `describe` should show it. */
  spec: EvalSpec;
  /** For people: where a fact came from, or why it could not be found and what to do. */
  notes: string[];
}

export interface EvalDescription {
  /** The dataset column of the tables, e.g. `iquiz`, `gsm8k,iquiz`, `random prompts`. */
  dataset: string;
  metric: string;
  /** Lines for `plan --dry-run`, after the evaluation's name. */
  lines: string[];
}

/** The spec of the backend an evaluator serves: the registry hands each evaluator its own kind only. */
export function specOf<B extends EvalSpec['backend']>(
  spec: EvalSpec,
  backend: B,
): Extract<EvalSpec, { backend: B }> {
  if (spec.backend !== backend)
    throw new Error(`${spec.name}: a ${spec.backend} evaluation given to ${backend}`);
  return spec as Extract<EvalSpec, { backend: B }>;
}
