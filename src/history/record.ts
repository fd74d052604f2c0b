import type { PerfLevel } from '../eval/perf/types.js';
import { PERF_GATE_METRICS, type PerfGateMetric } from '../plan/schema.js';
import type { Interval } from './stats.js';

/**
 * One finished run as the history keeps it: what the gates and the trend need, taken from the run's summary,
 * manifest and results (run/history.ts builds it, for a run just finished or a run folder imported).
 */
export interface RunRecord {
  /** The run folder, absolute. The database keeps it relative to the output folder, so that both can move. */
  run_dir: string;
  plan: string;
  /** The matrix variant; '' for a plan without a matrix. */
  cell: string;
  model: string;
  vllm_version: string | null;
  evalrig_version: string | null;
  status: 'ok' | 'failed' | 'interrupted';
  exit_code: number;
  /** When the run's first attempt began (a resumed run keeps its place in the trend). */
  started_at: string;
  /** When its latest attempt ended. */
  finished_at: string;
  /** From the start of the server to ready (/health and the served model answering); null when never ready. */
  time_to_ready_s: number | null;
  /** The latest attempt's phases from manifest.json: datasets, start, ready, eval:<name>, stop. */
  phases: PhaseRecord[];
  evals: EvalRecord[];
}

export interface PhaseRecord {
  name: string;
  started_at: string;
  duration_ms: number;
}

export interface ScoreRecord {
  name: string;
  num: number;
  /** Fraction 0..1; null when the evaluation has no score (it failed or was skipped). */
  score: number | null;
  ci95: Interval | null;
}

export interface EvalRecord extends ScoreRecord {
  status: 'ok' | 'failed' | 'skipped' | 'interrupted';
  /** Passes over the questions (`repeats`); 1 without. */
  repeats: number;
  errors: number;
  truncated: number;
  /** Requests sent again after a transient failure; null where the run did not count them. */
  retries: number | null;
  latency_p50_ms: number | null;
  latency_p90_ms: number | null;
  subsets: ScoreRecord[];
  /** A perf evaluation's figures, one entry per concurrency level; empty for the others. */
  perf: PerfLevelRecord[];
}

/** One concurrency level of a perf evaluation: the figures gates judge and the trend shows. */
export interface PerfLevelRecord {
  concurrency: number;
  /** Milliseconds for latencies, per second for throughputs; null where no request gave a value. */
  figures: Record<PerfGateMetric, number | null>;
}

/** A level's figure by its gate name: `ttft_ms.p99` is `ttft_ms` → `p99` of perf.json. */
function figureOf(level: PerfLevel, metric: PerfGateMetric): number | null {
  const [field, stat] = metric.split('.') as [keyof PerfLevel, string | undefined];
  const value = level[field];
  if (stat === undefined) return typeof value === 'number' ? value : null;
  const stats = value as Record<string, number | null> | null;
  return stats?.[stat] ?? null;
}

function figuresBy(value: (metric: PerfGateMetric) => number | null): PerfLevelRecord['figures'] {
  return Object.fromEntries(
    PERF_GATE_METRICS.map((metric) => [metric, value(metric)]),
  ) as PerfLevelRecord['figures'];
}

/** Every figure null: a level whose figures are read back one by one. */
export function noPerfFigures(): PerfLevelRecord['figures'] {
  return figuresBy(() => null);
}

/** The figures the history keeps of a perf evaluation's levels. */
export function perfLevelRecords(levels: readonly PerfLevel[] | undefined): PerfLevelRecord[] {
  return (levels ?? []).map((level) => ({
    concurrency: level.max_concurrency,
    figures: figuresBy((metric) => figureOf(level, metric)),
  }));
}

/** The subset name that stands for an evaluation's overall score, as in EvalScope's table. */
export const OVERALL = 'OVERALL';

/** The score of an evaluation (subset OVERALL: its overall score) in a recorded run. */
export function scoreIn(run: RunRecord, evalName: string, subset = OVERALL): ScoreRecord | undefined {
  const evalRecord = run.evals.find((e) => e.name === evalName);
  if (!evalRecord || subset === OVERALL) return evalRecord;
  return evalRecord.subsets.find((s) => s.name === subset);
}

/** One run's score of one evaluation, for a trend line. */
export interface TrendPoint {
  run_dir: string;
  started_at: string;
  score: number | null;
  status: string;
}

/** A run the gates compared with, as summary.json names it. */
export interface ComparedRun {
  run_dir: string;
  kind: 'previous' | 'baseline';
}
