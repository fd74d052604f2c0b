import type { GateVerdict } from '../history/gates.js';
import type { RunSummary } from '../run/summary.js';

/** How one check ended: FAIL, pass, or not judged (it passes, with its reason). */
function outcome(verdict: GateVerdict): string {
  if (!verdict.passed) return 'FAIL';
  return verdict.judged ? 'pass' : 'not judged';
}

/** A run's verdict in words, or none when its plan has no gates. */
export function verdictOf(
  summary: Pick<RunSummary, 'gates' | 'compared_with' | 'exit_code'>,
): { headline: string; checks: { outcome: string; name: string; detail: string }[] } | undefined {
  const gates = summary.gates ?? [];
  if (gates.length === 0) return undefined;
  const failed = gates.filter((verdict) => !verdict.passed).length;
  const compared = summary.compared_with
    ? `; compared with the ${summary.compared_with.kind} run ${summary.compared_with.run_dir}`
    : '';
  // A check that could not be judged (no earlier run, an interrupted run) passes, but is no evidence of a pass.
  const unjudged = gates.filter((verdict) => verdict.passed && !verdict.judged).length;
  const checks = (count: number) => `${count} gate check${count === 1 ? '' : 's'}`;
  const headline =
    failed > 0
      ? `FAILED: ${failed} of ${gates.length} gate checks failed (exit code ${summary.exit_code})${compared}`
      : unjudged === gates.length
        ? `not judged: none of ${checks(gates.length)} could be judged${compared}`
        : `passed: ${checks(gates.length - unjudged)}${unjudged > 0 ? `, ${unjudged} not judged` : ''}${compared}`;
  return {
    headline,
    checks: gates.map((verdict) => ({
      outcome: outcome(verdict),
      name: verdict.name,
      detail: verdict.detail,
    })),
  };
}

/** The verdict as console lines, failed checks first. */
export function verdictConsoleLines(
  summary: Pick<RunSummary, 'gates' | 'compared_with' | 'exit_code'>,
): string[] {
  const verdict = verdictOf(summary);
  if (!verdict) return [];
  const checks = [...verdict.checks].sort(
    (a, b) => Number(b.outcome === 'FAIL') - Number(a.outcome === 'FAIL'),
  );
  return [
    `Verdict: ${verdict.headline}`,
    ...checks.map((check) => `  ${check.outcome} gate ${check.name}: ${check.detail}`),
  ];
}
