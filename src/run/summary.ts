import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, type InterruptedError } from '../errors.js';
import type { EvalProgress } from '../eval/evaluator.js';
import type { EvalResult } from '../eval/types.js';
import type { PerfSummary } from '../eval/perf/types.js';
import type { GateVerdict } from '../history/gates.js';
import type { ComparedRun } from '../history/record.js';
import { questionsOf, scoreInterval, wilsonInterval, type Interval } from '../history/stats.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import type { StopReport } from '../server/runtime.js';
import { SUMMARY_FILE } from './run-dir.js';

export type RunStatus = 'ok' | 'failed' | 'interrupted';

export interface EvalSummary {
  name: string;
  backend: string;
  dataset: string;
  metric: string;
  /**
   * `interrupted`: the run was stopped while this evaluation ran (`eval_progress` says how far it got); `num`,
   * `score`, `subsets`, `truncated` and `errors` are those of the samples answered until then, where evalrig scores
   * them itself (native), without an interval.
   */
  status: 'ok' | 'failed' | 'skipped' | 'interrupted';
  num: number;
  /** Fraction 0..1, micro mean over all samples. */
  score: number | null;
  /**
   * The score's 95 % interval: from the spread of the passes with `repeats` (t interval), else Wilson's for the
   * sample size. Absent from summaries written before evalrig computed it, as are the other optional fields.
   */
  ci95?: Interval | null;
  /** Score minus the score of the run compared with (`compared_with`); null when either has none. */
  delta?: number | null;
  subsets: { name: string; num: number; score: number; ci95?: Interval | null }[];
  truncated: number;
  errors: number;
  error: string | null;
  /** A perf evaluation's figures per concurrency level, for gates and history. */
  perf?: PerfSummary;
  result?: EvalResult;
}

/** Samples with an answer on disk, of the samples of every evaluation whose samples evalrig knows. */
export interface SampleProgress {
  done: number;
  total: number;
}

/** One evaluation of a run that ended early: how far it got, and what a resume does with it. */
export interface EvalProgressSummary extends EvalProgress {
  name: string;
}

export interface RunSummary {
  status: RunStatus;
  exit_code: number;
  run_dir: string;
  plan: string;
  model: string;
  vllm_version: string | null;
  /** 1 for a new run, one more per `--resume`; the times below are this attempt's. */
  attempt: number;
  started_at: string;
  finished_at: string;
  duration_s: number;
  error: string | null;
  /**
   * Null when the datasets were not loaded or no evaluation has samples evalrig knows (EvalScope reads its own
   * datasets; a load test has requests, not samples).
   */
  samples: SampleProgress | null;
  /**
   * Each evaluation's progress for a run that ended early; absent once it ended ok, and from summaries written
   * before evalrig recorded it.
   */
  eval_progress?: EvalProgressSummary[];
  /** The command that continues this run where it stopped; null once it ended ok. */
  resume_command: string | null;
  evals: EvalSummary[];
  teardown: StopReport | null;
  /** Each gate's verdict, one per check (docs/gates.md); a failed one makes the exit code 3. */
  gates?: GateVerdict[];
  /** The run the deltas (and max_drop gates) compare with: the previous run that ended ok, or the baseline. */
  compared_with?: ComparedRun | null;
}

export function summarizeEval(result: EvalResult): EvalSummary {
  const repeats = result.repeats?.k ?? 1;
  return {
    name: result.name,
    backend: result.backend,
    dataset: result.dataset,
    metric: result.metric,
    status: 'ok',
    num: result.num,
    score: result.score,
    ci95: scoreInterval(
      { score: result.score, num: result.num, repeats },
      result.repeats && { mean: result.score, std: result.repeats.std, k: repeats },
    ),
    // Passes are not kept per subset: a subset's interval counts each of its questions once (history/stats.ts).
    subsets: result.subsets.map((subset) => ({
      ...subset,
      ci95: wilsonInterval(subset.score, questionsOf({ num: subset.num, repeats })),
    })),
    truncated: result.truncated,
    errors: result.errors,
    error: null,
    ...(result.perf && { perf: result.perf }),
    result,
  };
}

/** Drop the bulky full result from the summary; result.json in each eval folder has it. */
function summaryForFile(summary: RunSummary): RunSummary {
  return { ...summary, evals: summary.evals.map(({ result: _result, ...rest }) => rest) };
}

/** summary.json of a run: what scripts and the history read. */
export function writeRunSummary(summary: RunSummary): void {
  writeJsonAtomic(join(summary.run_dir, SUMMARY_FILE), summaryForFile(summary));
}

/** The summary of a run that ended ok; undefined for any other run, or none. */
export function readFinishedRun(runDir: string): RunSummary | undefined {
  let summary: RunSummary;
  try {
    summary = JSON.parse(readFileSync(join(runDir, SUMMARY_FILE), 'utf8')) as RunSummary;
  } catch {
    return undefined;
  }
  return summary.status === 'ok' ? summary : undefined;
}

export interface MatrixSummary {
  status: RunSummary['status'];
  exit_code: number;
  run_dir: string;
  plan: string;
  /** The command that resumes the matrix (variants that ended ok are not run again); null once all are ok. */
  resume_command: string | null;
  /** The variants that ran (or ended ok in an earlier attempt), in the plan's order. */
  variants: { name: string; summary: RunSummary }[];
  /**
   * How many variants ran at once (`matrix.max_parallel`). Absent, like the fields below, from summaries written
   * before evalrig ran variants in parallel.
   */
  max_parallel?: number;
  /** The variants that failed, by name, in the plan's order; interrupted ones are not counted here. */
  failed?: string[];
  /** The variants that never started: the matrix was interrupted first. */
  not_started?: string[];
  /** This attempt's wall time, from its start to the last variant's end; variants run at once overlap in it. */
  duration_s?: number;
}

/** The worst of the variants' exit codes, where any failure is worse than a failed gate (3). */
function matrixExitCode(codes: number[]): number {
  const failures = codes.filter((code) => code !== ExitCode.ok && code !== ExitCode.gateFailed);
  if (failures.length > 0) return Math.max(...failures);
  return codes.includes(ExitCode.gateFailed) ? ExitCode.gateFailed : ExitCode.ok;
}

/**
 * The matrix's overall status: interrupted if any variant was or the command was stopped between variants, else
 * failed if any failed. Stopped by a signal, the exit code is that signal's; otherwise the worst variant's, where
 * any failure (1) outranks a failed gate (3), so that a failed cell is never hidden behind another's gate.
 */
export function summarizeMatrix(
  plan: string,
  runDir: string,
  variants: MatrixSummary['variants'],
  context: {
    interruption?: InterruptedError;
    resumeCommand: string;
    maxParallel?: number;
    notStarted?: string[];
    durationS?: number;
  },
): MatrixSummary {
  const statuses = variants.map((v) => v.summary.status);
  const status =
    context.interruption || statuses.includes('interrupted')
      ? 'interrupted'
      : statuses.includes('failed')
        ? 'failed'
        : 'ok';
  return {
    status,
    exit_code: context.interruption?.exitCode ?? matrixExitCode(variants.map((v) => v.summary.exit_code)),
    run_dir: runDir,
    plan,
    resume_command: status === 'ok' ? null : context.resumeCommand,
    variants,
    max_parallel: context.maxParallel ?? 1,
    failed: variants.filter((v) => v.summary.status === 'failed').map((v) => v.name),
    not_started: context.notStarted ?? [],
    ...(context.durationS === undefined ? {} : { duration_s: context.durationS }),
  };
}

export function writeMatrixSummary(matrix: MatrixSummary): void {
  writeJsonAtomic(join(matrix.run_dir, SUMMARY_FILE), {
    ...matrix,
    variants: matrix.variants.map(({ name, summary }) => ({ name, summary: summaryForFile(summary) })),
  });
}
