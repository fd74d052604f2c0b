import { ExitCode, UserError } from '../errors.js';
import { countByStatus, runChecks } from '../host/checks/run-checks.js';
import type { CheckResult, OtherRun } from '../host/checks/types.js';
import { gatherHostFacts } from '../host/facts.js';
import { preflightInputFromPlan } from '../host/preflight-input.js';
import { renderChecksTable } from '../host/report.js';
import type { LoadedPlan } from '../plan/load.js';
import type { Plan } from '../plan/schema.js';
import { runtimeFor } from '../server/registry.js';
import type { ServePlan, ServerRuntime } from '../server/runtime.js';
import type { VllmDetection } from '../vllm/detect.js';

export interface PreflightOptions {
  /** The plan file's folder: relative paths in the plan resolve against it. */
  planDir: string;
  nvidiaSmi?: string;
  env?: Readonly<Record<string, string | undefined>>;
  timeoutMs?: number;
  /**
   * What version detection found for this plan already (`evalrig plan` detects it to render the flags), so that
   * vLLM is not asked twice; or that detection still running, which the other probes do not wait for. Ignored when
   * it only read the pin: the check then asks vLLM to compare.
   */
  vllmDetection?: VllmDetection | Promise<VllmDetection | undefined>;
  /** Ask EvalScope for its version even when no eval needs it (`evalrig doctor`). Default: only when needed. */
  probeEvalscope?: boolean;
  /** The command's interruption: probes in flight are killed. */
  signal?: AbortSignal;
}

/** Live servers of other evalrig runs that this plan's runtime knows of (a local plan never asks Docker). */
async function otherRuns(runtime: ServerRuntime): Promise<OtherRun[]> {
  const source = runtime.leftovers;
  if (!source?.available()) return [];
  const found = await source.find().catch(() => []);
  return found
    .filter((leftover) => leftover.verdict === 'owned')
    .map(({ name, detail, gpus }) => ({ name, detail, gpus }));
}

/** The host checks for one plan, with what its runtime needs from this host. */
export async function runPreflight(plan: Plan, options: PreflightOptions): Promise<CheckResult[]> {
  const env = options.env ?? process.env;
  const runtime = runtimeFor(plan.server);
  const needs = runtime.hostNeeds(plan.server, env);
  const input = preflightInputFromPlan(plan, options.planDir, needs, env);
  // The other runs (a Docker engine may be asked) are only judged, never probed: looked for beside the probes.
  const [others, facts] = await Promise.all([
    otherRuns(runtime),
    gatherHostFacts(input, {
      nvidiaSmi: options.nvidiaSmi,
      env,
      timeoutMs: options.timeoutMs,
      vllmDetection: options.vllmDetection,
      probeEvalscope: options.probeEvalscope,
      signal: options.signal,
    }),
  ]);
  return runChecks({ ...input, otherRuns: others }, facts);
}

/**
 * The preflight before a run: warnings and errors are shown, errors refuse the start (exit 4) unless skipped. With
 * the preflight skipped, the version notices it would have shown are said anyway. `serve` may still be rendering:
 * the probes start at once and share its version detection. Its failure (a flag this vLLM rejects) comes first and
 * stops the probes.
 */
export async function preflightBeforeRun(
  loaded: LoadedPlan,
  serve: Promise<ServePlan>,
  options: { skip: boolean; warn: (message: string) => void; signal: AbortSignal },
): Promise<ServePlan> {
  if (options.skip) {
    const prepared = await serve;
    for (const notice of prepared.notices) options.warn(notice);
    return prepared;
  }
  const probes = new AbortController();
  const stopProbes = () => probes.abort(options.signal.reason);
  options.signal.addEventListener('abort', stopProbes, { once: true });
  const results = runPreflight(loaded.plan, {
    planDir: loaded.dir,
    signal: probes.signal,
    vllmDetection: serve.then(
      (prepared) => prepared.detection,
      () => undefined,
    ),
  });
  // Settled either way here, so that a refused flag leaves no unhandled rejection behind.
  const checked = results.then(
    (found) => ({ found }),
    (error: unknown) => ({ error }),
  );
  try {
    const prepared = await serve.catch((error: unknown) => {
      probes.abort(error);
      throw error;
    });
    const outcome = await checked;
    if ('error' in outcome) throw outcome.error;
    refuseOnErrors(loaded, outcome.found);
    return prepared;
  } finally {
    options.signal.removeEventListener('abort', stopProbes);
  }
}

function refuseOnErrors(loaded: LoadedPlan, results: CheckResult[]): void {
  const counts = countByStatus(results);
  const noteworthy = results.filter((r) => r.status === 'error' || r.status === 'warning');
  if (noteworthy.length > 0) console.error(`Host preflight:\n${renderChecksTable(noteworthy)}\n`);
  if (counts.error > 0) {
    throw new UserError(
      `Preflight found ${counts.error} error(s): fix them (evalrig doctor ${loaded.file} shows all checks), or pass --skip-preflight.`,
      ExitCode.preflightRefused,
    );
  }
}
