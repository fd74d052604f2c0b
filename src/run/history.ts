import { ExitCode } from '../errors.js';
import type { EvalResult } from '../eval/types.js';
import { openHistory } from '../history/database.js';
import { anyGateFailed, comparedRun, judgeGates, scoreDelta } from '../history/gates.js';
import { perfLevelRecords, type EvalRecord, type RunRecord } from '../history/record.js';
import type { GateSpec } from '../plan/schema.js';
import type { Manifest, PhaseTiming } from './manifest.js';
import type { EvalSummary, RunSummary } from './summary.js';

/**
 * Between a finished run and the run history: the record of a run, its gates judged against the runs before it,
 * and the record written. The run goes on whatever the history does: a database that cannot be read or written
 * costs a warning and the command that records the run later, never the run.
 */

/** Where a run belongs in the history: the output folder holding history.sqlite, the plan and the matrix cell. */
export interface HistoryPlace {
  outputDir: string;
  plan: string;
  /** The matrix variant; '' for a plan without a matrix. */
  cell: string;
}

/** From the start of the server to ready; null when the server never became ready. */
function timeToReady(phases: Record<string, PhaseTiming>): number | null {
  const { start, ready } = phases;
  if (!ready) return null;
  const from = Date.parse(start?.started_at ?? ready.started_at);
  return (Date.parse(ready.started_at) + ready.duration_ms - from) / 1000;
}

function evalRecordOf(summary: EvalSummary, result: Partial<EvalResult> | undefined): EvalRecord {
  // An interrupted evaluation's score covers the samples answered until then: trends compare finished ones only.
  const finished = summary.status === 'ok';
  return {
    name: summary.name,
    status: summary.status,
    num: summary.num,
    score: finished ? summary.score : null,
    ci95: finished ? (summary.ci95 ?? null) : null,
    repeats: result?.repeats?.k ?? 1,
    errors: summary.errors,
    truncated: summary.truncated,
    retries: result?.retries ?? null,
    latency_p50_ms: result?.latency_ms?.p50 ?? null,
    latency_p90_ms: result?.latency_ms?.p90 ?? null,
    subsets: finished
      ? summary.subsets.map(({ name, num, score, ci95 }) => ({ name, num, score, ci95: ci95 ?? null }))
      : [],
    perf: perfLevelRecords((summary.perf ?? result?.perf)?.levels),
  };
}

/**
 * A run as the history keeps it. `resultOf` gives each evaluation's full result (request figures): in memory for
 * a run just finished, from evals/<name>/result.json for a run folder imported.
 */
export function runRecordOf(
  summary: RunSummary,
  manifest: Manifest | undefined,
  place: Omit<HistoryPlace, 'outputDir'> & { runDir: string },
  resultOf: (evalName: string) => Partial<EvalResult> | undefined,
): RunRecord {
  return {
    run_dir: place.runDir,
    plan: place.plan,
    cell: place.cell,
    model: summary.model,
    vllm_version: summary.vllm_version,
    evalrig_version: manifest?.attempts.at(-1)?.evalrig_version ?? manifest?.evalrig_version ?? null,
    status: summary.status,
    exit_code: summary.exit_code,
    // The first attempt's start: a resumed run keeps its place among the plan's runs.
    started_at: manifest?.started_at ?? summary.started_at,
    finished_at: summary.finished_at,
    time_to_ready_s: manifest ? timeToReady(manifest.phases) : null,
    phases: Object.entries(manifest?.phases ?? {}).map(([name, timing]) => ({ name, ...timing })),
    evals: summary.evals.map((e) => evalRecordOf(e, resultOf(e.name) ?? e.result)),
  };
}

function recordOfFinished(summary: RunSummary, manifest: Manifest, place: HistoryPlace): RunRecord {
  return runRecordOf(summary, manifest, { ...place, runDir: summary.run_dir }, () => undefined);
}

/**
 * The summary with the plan's gates judged against the earlier runs of its plan and cell: `gates`,
 * `compared_with`, each evaluation's `delta`, and exit code 3 when a run that ended ok failed a gate.
 */
export function judgeRun(
  summary: RunSummary,
  manifest: Manifest,
  place: HistoryPlace,
  gates: readonly GateSpec[],
  warn: (message: string) => void,
): RunSummary {
  const record = recordOfFinished(summary, manifest, place);
  let earlier = {};
  try {
    const history = openHistory(place.outputDir, { create: true });
    try {
      earlier = {
        previous: history.previousRun(place.plan, place.cell, record.started_at),
        baseline: history.baseline(place.plan, place.cell),
      };
    } finally {
      history.close();
    }
  } catch (error) {
    warn(`the run history could not be read (${(error as Error).message}): drops are not judged`);
  }
  const verdicts = judgeGates(gates, record, earlier);
  const compared = comparedRun(gates, earlier);
  const failed = summary.status === 'ok' && anyGateFailed(verdicts);
  return {
    ...summary,
    exit_code: failed ? ExitCode.gateFailed : summary.exit_code,
    evals: summary.evals.map((e) => ({
      ...e,
      ci95: e.ci95 ?? null,
      delta: scoreDelta(record, compared?.run, e.name),
    })),
    gates: verdicts,
    compared_with: compared ? { run_dir: compared.run.run_dir, kind: compared.kind } : null,
  };
}

/** Records a finished run (any status) in the history of its output folder; a failure is a warning. */
export function recordRun(
  summary: RunSummary,
  manifest: Manifest,
  place: HistoryPlace,
  warn: (message: string) => void,
): void {
  try {
    const history = openHistory(place.outputDir, { create: true });
    try {
      history.record(recordOfFinished(summary, manifest, place));
    } finally {
      history.close();
    }
  } catch (error) {
    warn(
      `the run was not recorded in the run history (${(error as Error).message}); ` +
        `\`evalrig history import ${summary.run_dir}\` records it later`,
    );
  }
}
