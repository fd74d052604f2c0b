import { createRequire } from 'node:module';
import type { Builder, TestSuite } from 'junit-report-builder';
import type { EvalSummary } from '../run/summary.js';
import type { GateVerdict } from '../history/gates.js';
import type { RunFolder } from './run-folder.js';
import { formatScore } from './table.js';

/**
 * junit.xml, for CI systems that show test results (Jenkins, GitLab). Per run: a case `run` (failed unless the run
 * ended ok), a case per evaluation and a case per gate. An evaluation fails when it did not finish, and also when
 * any of its requests failed for good: such a sample counts as wrong, so the score understates the model and
 * must not pass unnoticed. Truncated answers are the model's own doing and do not fail it. A skipped evaluation is
 * a skipped case.
 *
 * The root is a single `<testsuite>` (a matrix's variants are told apart by class name), so that the file is
 * valid under the Jenkins xunit JUnit schema, whose `<testsuites>` has no `skipped` attribute.
 */

// The package is CommonJS with `module.exports = builder`, while its typings declare a default export; required,
// the value and its type agree.
const junitReportBuilder = createRequire(import.meta.url)('junit-report-builder') as Builder;

/** JUnit times are seconds with at most three decimals. */
function seconds(value: number): number {
  return Math.round(value * 1000) / 1000;
}

function evalOutput(evalSummary: EvalSummary): string {
  const subsets = evalSummary.subsets
    .map((subset) => `${subset.name} ${formatScore(subset.score)}`)
    .join(', ');
  return (
    `score ${formatScore(evalSummary.score)}${subsets ? ` (${subsets})` : ''}; ` +
    `${evalSummary.num} samples${evalSummary.status === 'interrupted' ? ' answered before the interruption' : ''}, ` +
    `${evalSummary.errors} failed requests, ${evalSummary.truncated} truncated`
  );
}

function evalFailure(evalSummary: EvalSummary): { message: string; type: string } | null {
  if (evalSummary.status === 'failed')
    return { message: `evaluation failed: ${evalSummary.error ?? 'no reason recorded'}`, type: 'EvalFailed' };
  if (evalSummary.status === 'interrupted')
    return {
      message: `evaluation interrupted: ${evalSummary.error ?? 'no reason recorded'}`,
      type: 'EvalInterrupted',
    };
  if (evalSummary.errors > 0)
    return {
      message: `${evalSummary.errors} of ${evalSummary.num} requests failed (counted as wrong answers)`,
      type: 'RequestErrors',
    };
  return null;
}

/** A failed gate's message: the value, the threshold and the compared run, then the gate's own account. */
function gateFailureMessage(gate: GateVerdict): string {
  const compared = gate.compared_with
    ? `, compared with the ${gate.compared_with.kind} run ${gate.compared_with.run_dir}` +
      (gate.compared_value === null ? '' : ` (value ${gate.compared_value})`)
    : '';
  return `${gate.check} threshold ${gate.threshold}, value ${gate.value ?? 'none'}${compared}. ${gate.detail}`;
}

function addRun(suite: TestSuite, className: string, folder: RunFolder): void {
  const { summary, manifest } = folder;
  const runCase = suite.testCase().className(className).name('run').time(seconds(summary.duration_s));
  if (summary.status !== 'ok')
    runCase.failure(
      `run ${summary.status}: ${summary.error ?? `exit code ${summary.exit_code}`}`,
      'RunFailed',
    );
  for (const evalSummary of summary.evals) {
    const wallMs = evalSummary.result?.wall_ms ?? manifest?.phases[`eval:${evalSummary.name}`]?.duration_ms;
    const evalCase = suite.testCase().className(`${className}.evals`).name(evalSummary.name);
    if (wallMs !== undefined) evalCase.time(seconds(wallMs / 1000));
    if (evalSummary.status === 'skipped') {
      evalCase.skipped();
      continue;
    }
    const failure = evalFailure(evalSummary);
    if (failure) evalCase.failure(failure.message, failure.type);
    evalCase.standardOutput(evalOutput(evalSummary));
  }
  // A gate with two checks (min and max_drop) gives two cases; one that could not be judged is skipped.
  for (const gate of summary.gates ?? []) {
    const gateCase = suite.testCase().className(`${className}.gates`).name(`${gate.name} ${gate.check}`);
    if (!gate.passed) gateCase.failure(gateFailureMessage(gate), 'GateFailed');
    else if (!gate.judged) gateCase.skipped();
    gateCase.standardOutput(gate.detail);
  }
}

/**
 * The junit.xml of a run (`runs` holds it alone, without a variant) or of a matrix (one entry per variant).
 */
export function renderJunit(plan: string, runs: readonly { variant?: string; folder: RunFolder }[]): string {
  const suite = junitReportBuilder.newBuilder().testSuite().name(`evalrig ${plan}`);
  const first = runs[0]?.folder.summary;
  if (first) suite.timestamp(first.started_at);
  suite.time(seconds(runs.reduce((total, run) => total + run.folder.summary.duration_s, 0)));
  for (const { variant, folder } of runs)
    addRun(suite, ['evalrig', plan, ...(variant === undefined ? [] : [variant])].join('.'), folder);
  return suite.build().end({ pretty: true }) + '\n';
}
