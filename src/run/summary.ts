import { join } from 'node:path';
import { ExitCode } from '../errors.js';
import type { EvalResult } from '../eval/types.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import type { StopReport } from '../server/runtime.js';

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

export interface RunSummary {
  status: RunStatus;
  exit_code: number;
  run_dir: string;
  plan: string;
  model: string;
  vllm_version: string | null;
  started_at: string;
  finished_at: string;
  duration_s: number;
  error: string | null;
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
  writeJsonAtomic(join(summary.run_dir, 'summary.json'), summaryForFile(summary));
}

export interface MatrixSummary {
  status: RunSummary['status'];
  exit_code: number;
  run_dir: string;
  plan: string;
  variants: { name: string; summary: RunSummary }[];
}

/**
 * The matrix's overall status: interrupted if any variant was or the command was stopped between variants, else
 * failed if any failed.
 */
export function summarizeMatrix(
  plan: string,
  runDir: string,
  variants: MatrixSummary['variants'],
  interrupted = false,
): MatrixSummary {
  const statuses = variants.map((v) => v.summary.status);
  const status =
    interrupted || statuses.includes('interrupted')
      ? 'interrupted'
      : statuses.includes('failed')
        ? 'failed'
        : 'ok';
  const exitCode = Math.max(0, ...variants.map((v) => v.summary.exit_code));
  return {
    status,
    exit_code: status === 'interrupted' ? ExitCode.interrupted : exitCode,
    run_dir: runDir,
    plan,
    variants,
  };
}

export function writeMatrixSummary(matrix: MatrixSummary): void {
  writeJsonAtomic(join(matrix.run_dir, 'summary.json'), {
    ...matrix,
    variants: matrix.variants.map(({ name, summary }) => ({ name, summary: summaryForFile(summary) })),
  });
}
