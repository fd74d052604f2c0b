import Table from 'cli-table3';
import { summarizeLatency } from '../eval/native/score.js';
import type { EvalSummary } from '../run/summary.js';
import { findFlips, type AnswerSide, type Flip } from './flips.js';
import { readPredictions, readRunFolder, type RunFolder } from './run-folder.js';
import { formatDelta, formatScore } from './table.js';

export type MetricUnit = 'score' | 'count' | 'ms';

/** One figure of an evaluation in both runs; null where a run has no such figure. */
export interface MetricRow {
  metric: string;
  unit: MetricUnit;
  a: number | null;
  b: number | null;
  /** b − a, when both have the figure. */
  delta: number | null;
}

export interface EvalComparison {
  name: string;
  metrics: MetricRow[];
  /** Samples answered in both runs whose correctness changed; `before` is run A's answer. */
  flips: Flip[];
}

export interface RunSide {
  run_dir: string;
  plan: string;
  model: string;
  started_at: string;
  status: string;
}

/** `evalrig compare A B`: what changed from run A to run B. */
export interface RunComparison {
  a: RunSide;
  b: RunSide;
  evals: EvalComparison[];
}

function sideOf(folder: RunFolder): RunSide {
  const { run_dir, plan, model, started_at, status } = folder.summary;
  return { run_dir, plan, model, started_at, status };
}

function row(metric: string, unit: MetricUnit, a: number | null, b: number | null): MetricRow {
  return { metric, unit, a, b, delta: a === null || b === null ? null : b - a };
}

function latencyOf(folder: RunFolder, evalSummary: EvalSummary | undefined) {
  if (!evalSummary) return null;
  if (evalSummary.result?.latency_ms) return evalSummary.result.latency_ms;
  const answered = readPredictions(folder.dir, evalSummary.name).filter((record) => record.error === null);
  return summarizeLatency(answered.map((record) => record.latency_ms));
}

function metricsOf(name: string, a: RunFolder, b: RunFolder): MetricRow[] {
  const evalA = a.summary.evals.find((e) => e.name === name);
  const evalB = b.summary.evals.find((e) => e.name === name);
  const subsetNames = [
    ...new Set([...(evalA?.subsets ?? []), ...(evalB?.subsets ?? [])].map((subset) => subset.name)),
  ];
  const subsetScore = (evalSummary: EvalSummary | undefined, subset: string) =>
    evalSummary?.subsets.find((s) => s.name === subset)?.score ?? null;
  const latencyA = latencyOf(a, evalA);
  const latencyB = latencyOf(b, evalB);
  return [
    row('score', 'score', evalA?.score ?? null, evalB?.score ?? null),
    ...subsetNames.map((subset) =>
      row(`score ${subset}`, 'score', subsetScore(evalA, subset), subsetScore(evalB, subset)),
    ),
    row('samples', 'count', evalA?.num ?? null, evalB?.num ?? null),
    row('errors', 'count', evalA?.errors ?? null, evalB?.errors ?? null),
    row('truncated', 'count', evalA?.truncated ?? null, evalB?.truncated ?? null),
    row('latency p50', 'ms', latencyA?.p50 ?? null, latencyB?.p50 ?? null),
    row('latency p90', 'ms', latencyA?.p90 ?? null, latencyB?.p90 ?? null),
  ];
}

/** Compares two run folders evaluation by evaluation (matched by name) and sample by sample (matched by id). */
export function compareRuns(dirA: string, dirB: string): RunComparison {
  const a = readRunFolder(dirA);
  const b = readRunFolder(dirB);
  const names = [...new Set([...a.summary.evals, ...b.summary.evals].map((e) => e.name))];
  return {
    a: sideOf(a),
    b: sideOf(b),
    evals: names.map((name) => ({
      name,
      metrics: metricsOf(name, a, b),
      flips: findFlips(readPredictions(a.dir, name), readPredictions(b.dir, name)),
    })),
  };
}

function formatValue(value: number | null, unit: MetricUnit): string {
  if (value === null) return '-';
  return unit === 'score' ? formatScore(value) : unit === 'ms' ? `${Math.round(value)} ms` : String(value);
}

function formatChange(value: number | null, unit: MetricUnit): string {
  if (unit === 'score') return formatDelta(value);
  if (value === null) return '-';
  if (value === 0) return '0';
  return `${value > 0 ? '+' : '-'}${formatValue(Math.abs(value), unit)}`;
}

function formatAnswer(side: AnswerSide): string {
  return `${side.extracted ?? '-'} (${side.correct ? 'right' : 'wrong'})`;
}

/** A table without lines between rows: the flipped samples can be many. */
function newTable(head: string[]): Table.Table {
  return new Table({
    head,
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
}

/** The comparison for people: the figures side by side, then the flipped samples of each evaluation. */
export function renderComparison(comparison: RunComparison): string {
  const { a, b } = comparison;
  const lines = [
    `A: ${a.run_dir} (${a.model}, started ${a.started_at}, ${a.status})`,
    `B: ${b.run_dir} (${b.model}, started ${b.started_at}, ${b.status})`,
  ];
  const figures = newTable(['Eval', 'Metric', 'A', 'B', 'B - A']);
  for (const evalComparison of comparison.evals) {
    for (const metric of evalComparison.metrics) {
      figures.push([
        evalComparison.name,
        metric.metric,
        formatValue(metric.a, metric.unit),
        formatValue(metric.b, metric.unit),
        formatChange(metric.delta, metric.unit),
      ]);
    }
  }
  lines.push(figures.toString());
  for (const { name, flips } of comparison.evals) {
    const fixed = flips.filter((flip) => flip.after.correct).length;
    lines.push(
      '',
      flips.length === 0
        ? `${name}: no sample flipped`
        : `${name}: ${flips.length} samples flipped (${fixed} now right, ${flips.length - fixed} now wrong)`,
    );
    if (flips.length === 0) continue;
    const samples = newTable(['Sample', 'Subset', 'Gold', 'A', 'B']);
    for (const flip of flips)
      samples.push([flip.id, flip.subset, flip.gold, formatAnswer(flip.before), formatAnswer(flip.after)]);
    lines.push(samples.toString());
  }
  return lines.join('\n');
}
