import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InterruptedError } from '../errors.js';
import type { EvalResult } from '../eval/types.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import type { StopReport } from '../server/runtime.js';
import { SUMMARY_FILE } from './run-dir.js';

export type RunStatus = 'ok' | 'failed' | 'interrupted';

export interface EvalSummary {
  name: string;
  backend: string;
  dataset: string;
  metric: string;
  status: 'ok' | 'failed' | 'skipped';
  num: number;
  /** Fraction 0..1, micro mean over all samples. */
  score: number | null;
  subsets: { name: string; num: number; score: number }[];
  truncated: number;
  errors: number;
  error: string | null;
  result?: EvalResult;
}

/** Samples with an answer on disk, of every evaluation's samples. */
export interface SampleProgress {
  done: number;
  total: number;
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
  /** Null when the datasets were not loaded. */
  samples: SampleProgress | null;
  /** The command that continues this run where it stopped; null once it ended ok. */
  resume_command: string | null;
  evals: EvalSummary[];
  teardown: StopReport | null;
}

export function summarizeEval(result: EvalResult): EvalSummary {
  return {
    name: result.name,
    backend: result.backend,
    dataset: result.dataset,
    metric: result.metric,
    status: 'ok',
    num: result.num,
    score: result.score,
    subsets: result.subsets,
    truncated: result.truncated,
    errors: result.errors,
    error: null,
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
  variants: { name: string; summary: RunSummary }[];
}

/**
 * The matrix's overall status: interrupted if any variant was or the command was stopped between variants, else
 * failed if any failed. Stopped by a signal, the exit code is that signal's.
 */
export function summarizeMatrix(
  plan: string,
  runDir: string,
  variants: MatrixSummary['variants'],
  context: { interruption?: InterruptedError; resumeCommand: string },
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
    exit_code: context.interruption?.exitCode ?? Math.max(0, ...variants.map((v) => v.summary.exit_code)),
    run_dir: runDir,
    plan,
    resume_command: status === 'ok' ? null : context.resumeCommand,
    variants,
  };
}

export function writeMatrixSummary(matrix: MatrixSummary): void {
  writeJsonAtomic(join(matrix.run_dir, SUMMARY_FILE), {
    ...matrix,
    variants: matrix.variants.map(({ name, summary }) => ({ name, summary: summaryForFile(summary) })),
  });
}
