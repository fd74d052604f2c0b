import { isPerfGateMetric, type GateMetric, type GateSpec } from '../plan/schema.js';
import { OVERALL, scoreIn, type ComparedRun, type EvalRecord, type RunRecord } from './record.js';
import { dropZ, questionsOf, Z95 } from './stats.js';

/**
 * Gates judge a finished run's figures: a value against `min` and `max`, a score against an earlier run's with
 * `max_drop`. Pure: the run and the runs it may be compared with come in, verdicts go out (docs/gates.md).
 */

export type GateCheck = 'min' | 'max' | 'max_drop';

/** One check of one gate: a gate with `min` and `max_drop` gives two verdicts under its name. */
export interface GateVerdict {
  name: string;
  check: GateCheck;
  passed: boolean;
  /** False when the check could not be judged (no earlier run yet, the evaluation did not run): it passes. */
  judged: boolean;
  eval: string | null;
  subset: string;
  metric: GateMetric;
  /** Perf metrics: the concurrency level the gate names; absent for the others. */
  concurrency?: number;
  /** The figure of the check: min, max, or max_drop. */
  threshold: number;
  /** This run's value (fraction for scores and rates, seconds for time_to_ready_s, perf figures as perf.json). */
  value: number | null;
  /** max_drop: the compared run, its value, and how far this run fell below it (negative: it rose). */
  compared_with: ComparedRun | null;
  compared_value: number | null;
  drop: number | null;
  /** max_drop with significant: the two-proportion z statistic of the drop, failing only beyond Z95. */
  z: number | null;
  /** The verdict for people: what was measured, against what, and why it passed or failed. */
  detail: string;
}

/** The runs a gate may compare with: the previous run that ended ok, and the pinned baseline. */
export interface EarlierRuns {
  previous?: RunRecord;
  baseline?: RunRecord;
}

/** Scores and rates to four decimals, as the score table shows them. */
function figure(value: number): string {
  return String(Number(value.toFixed(4)));
}

function gateName(gate: GateSpec): string {
  if (gate.name) return gate.name;
  if (gate.eval === undefined) return gate.metric;
  if (gate.concurrency !== undefined) return `${gate.eval}.${gate.metric}@${gate.concurrency}`;
  return gate.metric === 'score' ? `${gate.eval}.${gate.subset}.score` : `${gate.eval}.${gate.metric}`;
}

/** What the gate measures, for the verdict: `demo-quiz OVERALL score`, `load ttft_ms.p99 at concurrency 16`. */
function measured(gate: GateSpec): string {
  if (gate.eval === undefined) return gate.metric;
  if (gate.concurrency !== undefined) return `${gate.eval} ${gate.metric} at concurrency ${gate.concurrency}`;
  return gate.metric === 'score' ? `${gate.eval} ${gate.subset} score` : `${gate.eval} ${gate.metric}`;
}

/**
 * A value; or missing, which passes unjudged (nothing to judge yet); or unmeasured, which fails: a perf level
 * whose requests all failed has no latency, and that must not pass a latency gate.
 */
type Reading = { value: number; questions: number } | { missing: string } | { unmeasured: string };

/** A perf figure of the gate's concurrency level (the only level when the gate names none). */
function readPerf(gate: GateSpec, evalRecord: EvalRecord): Reading {
  const levels = evalRecord.perf;
  if (levels.length === 0)
    return { missing: `evaluation ${evalRecord.name} has no perf figures (${evalRecord.status})` };
  const level =
    gate.concurrency === undefined
      ? levels.length === 1
        ? levels[0]
        : undefined
      : levels.find((candidate) => candidate.concurrency === gate.concurrency);
  if (!level) {
    const had = levels.map((candidate) => candidate.concurrency).join(', ');
    return {
      missing: `evaluation ${evalRecord.name} has no concurrency level ${gate.concurrency ?? '(none named)'}; it has ${had}`,
    };
  }
  const value = level.figures[gate.metric as keyof typeof level.figures];
  if (value === null || value === undefined)
    return {
      unmeasured: `no request at concurrency ${level.concurrency} succeeded, so it has no ${gate.metric}`,
    };
  return { value, questions: 0 };
}

/** The gate's metric in a run, or why it has none. */
function read(gate: GateSpec, run: RunRecord): Reading {
  if (gate.metric === 'time_to_ready_s')
    return run.time_to_ready_s === null
      ? { missing: 'the server never became ready' }
      : { value: run.time_to_ready_s, questions: 0 };
  const evalName = gate.eval ?? '';
  const evalRecord = run.evals.find((e) => e.name === evalName);
  if (!evalRecord) return { missing: `evaluation ${evalName} did not run` };
  if (isPerfGateMetric(gate.metric)) return readPerf(gate, evalRecord);
  if (evalRecord.score === null || evalRecord.num === 0)
    return { missing: `evaluation ${evalName} has no score (${evalRecord.status})` };
  const questions = questionsOf(evalRecord);
  if (gate.metric === 'truncation_rate') return { value: evalRecord.truncated / evalRecord.num, questions };
  if (gate.metric === 'error_rate') return { value: evalRecord.errors / evalRecord.num, questions };
  const score = scoreIn(run, evalName, gate.subset);
  if (score?.score === null || score === undefined)
    return { missing: `evaluation ${evalName} has no subset ${gate.subset}` };
  return { value: score.score, questions: questionsOf({ num: score.num, repeats: evalRecord.repeats }) };
}

function checksOf(gate: GateSpec): [GateCheck, number][] {
  const checks: [GateCheck, number | undefined][] = [
    ['min', gate.min],
    ['max', gate.max],
    ['max_drop', gate.max_drop],
  ];
  return checks.filter((check): check is [GateCheck, number] => check[1] !== undefined);
}

/** The run a max_drop check compares with, as the gate's `against` says. */
function comparedFor(gate: GateSpec, earlier: EarlierRuns): { run?: RunRecord; kind: ComparedRun['kind'] } {
  return gate.against === 'baseline'
    ? { run: earlier.baseline, kind: 'baseline' }
    : { run: earlier.previous, kind: 'previous' };
}

export function judgeGates(gates: readonly GateSpec[], run: RunRecord, earlier: EarlierRuns): GateVerdict[] {
  return gates.flatMap((gate) => checksOf(gate).map(([check, threshold]) => judge(gate, check, threshold)));

  function judge(gate: GateSpec, check: GateCheck, threshold: number): GateVerdict {
    const base = {
      name: gateName(gate),
      check,
      eval: gate.eval ?? null,
      subset: gate.subset,
      metric: gate.metric,
      ...(gate.concurrency !== undefined && { concurrency: gate.concurrency }),
      threshold,
      value: null,
      compared_with: null,
      compared_value: null,
      drop: null,
      z: null,
    };
    const unjudged = (why: string): GateVerdict => ({
      ...base,
      passed: true,
      judged: false,
      detail: `${check} ${threshold}: ${why}`,
    });
    if (run.status !== 'ok')
      return unjudged(`the run ${run.status === 'failed' ? 'failed' : 'was interrupted'}`);
    const now = read(gate, run);
    if ('missing' in now) return unjudged(now.missing);
    if ('unmeasured' in now)
      return { ...base, passed: false, judged: true, detail: `${check} ${threshold}: ${now.unmeasured}` };
    const what = `${measured(gate)} ${figure(now.value)}`;
    if (check === 'min' || check === 'max') {
      const passed = check === 'min' ? now.value >= threshold : now.value <= threshold;
      const relation = check === 'min' ? (passed ? '≥' : 'is below') : passed ? '≤' : 'is above';
      return {
        ...base,
        value: now.value,
        passed,
        judged: true,
        detail: `${what} ${relation} ${check} ${threshold}`,
      };
    }

    const { run: compared, kind } = comparedFor(gate, earlier);
    if (!compared)
      return {
        ...unjudged(
          kind === 'baseline'
            ? `no baseline pinned for ${run.plan}${run.cell ? ` cell ${run.cell}` : ''} (evalrig history baseline <run-dir>)`
            : `no earlier run of ${run.plan}${run.cell ? ` cell ${run.cell}` : ''} ended ok`,
        ),
        value: now.value,
      };
    const comparedWith: ComparedRun = { run_dir: compared.run_dir, kind };
    const before = read(gate, compared);
    if (!('value' in before))
      return {
        ...unjudged(
          `in the ${kind} run ${compared.run_dir}, ${'missing' in before ? before.missing : before.unmeasured}`,
        ),
        value: now.value,
        compared_with: comparedWith,
      };
    const drop = before.value - now.value;
    const against = `${figure(before.value)} (${kind} run ${compared.run_dir})`;
    const judged = {
      ...base,
      value: now.value,
      compared_with: comparedWith,
      compared_value: before.value,
      drop,
    };
    const movement = drop > 0 ? `dropped ${figure(drop)} from ${against}` : `against ${against}`;
    // Two rounded scores apart: 0.925 − 0.825 is 0.10000000000000009, which is no drop beyond 0.1.
    if (drop <= threshold + 1e-9)
      return {
        ...judged,
        passed: true,
        judged: true,
        detail: `${what} ${movement}, within max_drop ${threshold}`,
      };
    if (!gate.significant)
      return {
        ...judged,
        passed: false,
        judged: true,
        detail: `${what} ${movement}, more than max_drop ${threshold}`,
      };
    const z = dropZ(
      { score: before.value, num: before.questions, repeats: 1 },
      { score: now.value, num: now.questions, repeats: 1 },
    );
    const beyond = z > Z95;
    const noise = `z = ${z.toFixed(2)} ${beyond ? '>' : '≤'} 1.96 over ${before.questions} and ${now.questions} questions`;
    return {
      ...judged,
      z,
      passed: !beyond,
      judged: true,
      detail: `${what} ${movement}, more than max_drop ${threshold} ${beyond ? 'and beyond' : 'but within'} the noise (${noise})`,
    };
  }
}

/**
 * The run this run's deltas are taken against: the pinned baseline when a gate compares with it (and one is
 * pinned), else the previous run that ended ok.
 */
export function comparedRun(
  gates: readonly GateSpec[],
  earlier: EarlierRuns,
): { run: RunRecord; kind: ComparedRun['kind'] } | undefined {
  if (earlier.baseline && gates.some((gate) => gate.against === 'baseline'))
    return { run: earlier.baseline, kind: 'baseline' };
  return earlier.previous && { run: earlier.previous, kind: 'previous' };
}

/** An evaluation's overall score now minus in the compared run; null when either has none. */
export function scoreDelta(run: RunRecord, compared: RunRecord | undefined, evalName: string): number | null {
  const now = scoreIn(run, evalName, OVERALL)?.score;
  const before = compared && scoreIn(compared, evalName, OVERALL)?.score;
  return now === null || now === undefined || before === null || before === undefined ? null : now - before;
}

/** Whether any judged check failed: the run's exit code is then 3. */
export function anyGateFailed(verdicts: readonly GateVerdict[]): boolean {
  return verdicts.some((verdict) => !verdict.passed);
}
