import type { EvalSummary, MatrixSummary, RunSummary } from '../../../src/run/summary.js';
import type { NoticeExtras } from '../../../src/notify/notice.js';

export function evalSummary(overrides: Partial<EvalSummary> & Pick<EvalSummary, 'name'>): EvalSummary {
  return {
    backend: 'native',
    dataset: 'iquiz',
    metric: 'acc',
    status: 'ok',
    num: 120,
    score: 0.6125,
    subsets: [],
    truncated: 0,
    errors: 0,
    error: null,
    ...overrides,
  };
}

/** A nightly run whose second evaluation failed: exit 1, the error on several lines. */
export function failedRun(overrides: Partial<RunSummary> = {}): RunSummary {
  return {
    status: 'failed',
    exit_code: 1,
    run_dir: '/data/outputs/nightly/20250101-020304',
    plan: 'nightly',
    model: 'Qwen3-8B',
    vllm_version: '0.10.1.1',
    attempt: 1,
    started_at: '2025-01-01T02:03:04.000Z',
    finished_at: '2025-01-01T02:15:09.000Z',
    duration_s: 725,
    error: 'mcq: vLLM stopped answering\n  at request 17 of 120',
    samples: { done: 137, total: 240 },
    resume_command: 'evalrig plan nightly.yaml --resume /data/outputs/nightly/20250101-020304',
    evals: [
      evalSummary({ name: 'iquiz', errors: 2 }),
      evalSummary({
        name: 'mcq',
        dataset: 'mcq',
        status: 'failed',
        num: 17,
        score: null,
        error: 'vLLM stopped',
      }),
    ],
    teardown: null,
    ...overrides,
  };
}

export function okRun(overrides: Partial<RunSummary> = {}): RunSummary {
  return failedRun({
    status: 'ok',
    exit_code: 0,
    error: null,
    resume_command: null,
    evals: [evalSummary({ name: 'iquiz' })],
    ...overrides,
  });
}

export function matrix(): MatrixSummary {
  return {
    status: 'failed',
    exit_code: 1,
    run_dir: '/data/outputs/sweep/20250101-020304',
    plan: 'sweep',
    resume_command: 'evalrig plan sweep.yaml --resume /data/outputs/sweep/20250101-020304',
    variants: [
      { name: 'bf16', summary: okRun({ plan: 'sweep', duration_s: 300 }) },
      {
        name: 'fp8',
        summary: failedRun({
          plan: 'sweep',
          model: 'Qwen3-8B-FP8',
          vllm_version: '0.10.1.1',
          duration_s: 200,
        }),
      },
    ],
  };
}

/** What the history and gates would add. */
export const GATES_AND_DELTAS: Required<NoticeExtras> = {
  gates: [
    { name: 'iquiz.OVERALL.score', passed: false, detail: 'iquiz OVERALL score 0.6125 is below min 0.65' },
    { name: 'iquiz.error_rate', passed: true, detail: 'iquiz error_rate 0.0167 ≤ max 0.05' },
  ],
  deltas: [{ name: 'iquiz', previous: 0.6583, current: 0.6125 }],
};
