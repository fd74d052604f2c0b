import { join } from 'node:path';
import type { NotifyTarget } from '../plan/schema.js';
import type { EvalSummary, MatrixSummary, RunStatus, RunSummary } from '../run/summary.js';

/** A gate's verdict on the finished run; `name` is the gate's, e.g. `iquiz.OVERALL.score`. */
export interface GateVerdict {
  name: string;
  passed: boolean;
  /** What the gate saw, e.g. `iquiz OVERALL score 0.58 is below min 0.6`. */
  detail: string;
}

/** How an evaluation's score moved against an earlier run; scores are fractions 0..1, as in the summary. */
export interface ScoreDelta {
  name: string;
  previous: number;
  current: number;
}

export interface NoticeEval {
  /** The matrix variant the evaluation ran in; absent for a plan without a matrix. */
  variant?: string;
  name: string;
  status: EvalSummary['status'];
  score: number | null;
  num: number;
  errors: number;
}

/**
 * What a notification says about a finished run or matrix, whatever the platform. Field names follow
 * summary.json, since the json kind posts these fields as they are.
 */
export interface RunNotice {
  kind: 'run' | 'matrix';
  status: RunStatus;
  exit_code: number;
  plan: string;
  /** A matrix: each variant's model, once, comma-separated. */
  model: string;
  vllm_version: string | null;
  duration_s: number;
  /** The first line of the error; a matrix: that of the first variant that has one, after its name. */
  error: string | null;
  /** report.md of the run directory. */
  report: string;
  evals: NoticeEval[];
  gates?: GateVerdict[];
  deltas?: ScoreDelta[];
}

/** What later stages know about a run beyond its summary. */
export interface NoticeExtras {
  gates?: GateVerdict[];
  deltas?: ScoreDelta[];
}

function firstLine(text: string | null): string | null {
  return text === null ? null : (text.split('\n', 1)[0] ?? '').trim();
}

function distinct(values: readonly (string | null)[]): string[] {
  return [...new Set(values.filter((value): value is string => value !== null))];
}

function noticeEvals(summary: RunSummary, variant?: string): NoticeEval[] {
  return summary.evals.map(({ name, status, score, num, errors }) => ({
    ...(variant === undefined ? {} : { variant }),
    name,
    status,
    score,
    num,
    errors,
  }));
}

/** The gate verdicts and score changes a summary carries (each variant's, by name, for a matrix). */
export function verdictOf(summary: RunSummary | MatrixSummary): NoticeExtras {
  const runs = 'variants' in summary ? summary.variants : [{ name: '', summary }];
  const named = (variant: string, name: string) => (variant ? `${variant}/${name}` : name);
  const gates = runs.flatMap(({ name, summary: run }) =>
    (run.gates ?? []).map((gate) => ({
      name: named(name, gate.name),
      passed: gate.passed,
      detail: gate.detail,
    })),
  );
  const deltas = runs.flatMap(({ name, summary: run }) =>
    run.evals.flatMap((evaluation) =>
      evaluation.score !== null && typeof evaluation.delta === 'number'
        ? [
            {
              name: named(name, evaluation.name),
              previous: evaluation.score - evaluation.delta,
              current: evaluation.score,
            },
          ]
        : [],
    ),
  );
  return { ...(gates.length > 0 ? { gates } : {}), ...(deltas.length > 0 ? { deltas } : {}) };
}

export function noticeOf(summary: RunSummary | MatrixSummary, extras: NoticeExtras = {}): RunNotice {
  const common = {
    status: summary.status,
    exit_code: summary.exit_code,
    plan: summary.plan,
    report: join(summary.run_dir, 'report.md'),
    ...extras,
  };
  if (!('variants' in summary)) {
    return {
      kind: 'run',
      ...common,
      model: summary.model,
      vllm_version: summary.vllm_version,
      duration_s: summary.duration_s,
      error: firstLine(summary.error),
      evals: noticeEvals(summary),
    };
  }
  const failing = summary.variants.find((variant) => variant.summary.error !== null);
  const versions = distinct(summary.variants.map((variant) => variant.summary.vllm_version));
  return {
    kind: 'matrix',
    ...common,
    model: distinct(summary.variants.map((variant) => variant.summary.model)).join(', '),
    vllm_version: versions.length > 0 ? versions.join(', ') : null,
    // The matrix's own wall time (its variants may overlap); older summaries lack it, and ran them one by one.
    duration_s:
      summary.duration_s ??
      summary.variants.reduce((total, variant) => total + variant.summary.duration_s, 0),
    error: failing ? `${failing.name}: ${firstLine(failing.summary.error)}` : null,
    evals: summary.variants.flatMap((variant) => noticeEvals(variant.summary, variant.name)),
  };
}

export function gateFailed(notice: RunNotice): boolean {
  return notice.gates?.some((gate) => !gate.passed) ?? false;
}

/** Whether a target's `on:` asks for this notice. */
export function wants(on: NotifyTarget['on'], notice: RunNotice): boolean {
  switch (on) {
    case 'always':
      return true;
    case 'gate':
      return gateFailed(notice);
    case 'failure':
      return notice.status !== 'ok' || gateFailed(notice);
  }
}
