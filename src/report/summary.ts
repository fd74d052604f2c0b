import type { EvalResult } from '../eval/types.js';
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
export function summaryForFile(summary: RunSummary): RunSummary {
  return { ...summary, evals: summary.evals.map(({ result: _result, ...rest }) => rest) };
}
