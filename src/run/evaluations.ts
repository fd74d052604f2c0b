import { mkdirSync } from 'node:fs';
import { InterruptedError } from '../errors.js';
import { ServerUnresponsiveError } from '../eval/errors.js';
import type { PreparedEval } from '../eval/evaluator.js';
import { evaluatorFor } from '../eval/registry.js';
import type { Endpoint } from '../eval/types.js';
import type { LoadedPlan } from '../plan/load.js';
import {
  ServerStoppedAnsweringError,
  watchHealth,
  type HealthWatchOptions,
} from '../server/readiness/health-watch.js';
import type { ExitInfo, ServerHandle } from '../server/runtime.js';
import type { RunDisplay } from '../util/display.js';
import { findFatalLine } from '../vllm/fatal-lines.js';
import type { ManifestFile } from './manifest.js';
import { evalDirOf } from './run-dir.js';
import { summarizeEval, type EvalSummary } from './summary.js';

class ServerExitedError extends Error {}

function exitedError(exit: ExitInfo): ServerExitedError {
  if (exit.description) return new ServerExitedError(`vLLM ended during evaluation: ${exit.description}`);
  return new ServerExitedError(`vLLM exited during evaluation (code ${exit.code ?? exit.signal})`);
}

/**
 * Load and check every evaluation's data before the server starts: a broken dataset costs no GPU time. The caller
 * records the provenance (a resume compares it with the run's first).
 */
export async function prepareEvaluations(
  loaded: LoadedPlan,
  signal: AbortSignal,
  display: RunDisplay,
): Promise<PreparedEval[]> {
  const prepared: PreparedEval[] = [];
  for (const spec of loaded.plan.evals) {
    const evaluation = await evaluatorFor(spec).prepare(spec, {
      planDir: loaded.dir,
      datasets: loaded.plan.datasets,
      signal,
      display,
    });
    for (const problem of evaluation.problems) display.warn(`${spec.name}: skipped ${problem}`);
    prepared.push(evaluation);
  }
  return prepared;
}

function failedEval(
  prepared: PreparedEval,
  status: 'failed' | 'skipped' | 'interrupted',
  error: string,
): EvalSummary {
  const { spec } = prepared;
  const { dataset, metric } = evaluatorFor(spec).describe(spec);
  return {
    name: spec.name,
    backend: spec.backend,
    dataset,
    metric,
    status,
    num: 0,
    score: null,
    subsets: [],
    truncated: 0,
    errors: 0,
    error,
  };
}

/**
 * The row of an evaluation the run's interruption stopped: the figures of the samples answered before it, as a
 * resume keeps them, where the evaluator can tell (none otherwise, or when they cannot be read).
 */
async function interruptedEval(
  prepared: PreparedEval,
  evalDir: string,
  error: string,
  display: RunDisplay,
): Promise<EvalSummary> {
  const row = failedEval(prepared, 'interrupted', error);
  try {
    const answered = await evaluatorFor(prepared.spec).answeredSoFar?.(prepared, evalDir);
    if (!answered || answered.num === 0) return row;
    const { num, score, subsets, truncated, errors } = answered;
    return { ...row, num, score, subsets, truncated, errors };
  } catch (unreadable) {
    const why = unreadable instanceof Error ? unreadable.message : String(unreadable);
    display.warn(
      `${prepared.spec.name}: the answers saved before the interruption could not be read: ${why}`,
    );
    return row;
  }
}

function describeEvalFailure(reason: unknown, server: ServerHandle): string {
  if (reason instanceof ServerExitedError) {
    const fatal = findFatalLine(server.logTail(400));
    return `${reason.message}${fatal ? `: ${fatal.line}` : ''}`;
  }
  return reason instanceof Error ? reason.message : String(reason);
}

export interface EvaluationsContext {
  runDir: string;
  manifest: ManifestFile;
  runSignal: AbortSignal;
  display: RunDisplay;
  mask: (text: string) => string;
  /** A resumed run: each evaluation continues from its predictions on disk. */
  resume: boolean;
  /** How the server's /health is watched while an evaluation runs. */
  health: HealthWatchOptions;
  /**
   * Filled as each evaluation ends, so that an interruption keeps the rows of those before it and the row of the
   * one it stopped (status `interrupted`).
   */
  summaries: EvalSummary[];
}

/** Lets every callback of promises settled by now run: a server that already exited is seen as exited. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Each evaluation in turn, recorded in `ctx.summaries`. One that fails is recorded and the next one runs; when the
 * server dies, the rest are recorded as skipped; an interruption propagates (InterruptedError) after the current
 * one stops and is recorded as interrupted.
 */
export async function runEvaluations(
  prepared: PreparedEval[],
  endpoint: Endpoint,
  server: ServerHandle,
  ctx: EvaluationsContext,
): Promise<EvalSummary[]> {
  const { summaries } = ctx;
  let serverDied: string | undefined;
  let exit: ExitInfo | undefined;
  void server.exited.then((info) => (exit = info));
  for (const evaluation of prepared) {
    const { spec } = evaluation;
    // A server that died between two evaluations: the next one must not send its requests to a dead port.
    await settle();
    if (exit && !serverDied) serverDied = describeEvalFailure(exitedError(exit), server);
    if (serverDied) {
      summaries.push(failedEval(evaluation, 'skipped', `not run: ${serverDied}`));
      continue;
    }
    // Interrupted between two evaluations: the next one never starts, so it gets no row (as those after it).
    ctx.runSignal.throwIfAborted();
    const evalDir = evalDirOf(ctx.runDir, spec.name);
    mkdirSync(evalDir, { recursive: true });
    // The evaluation stops at once when the run is interrupted or the server dies under it.
    const controller = new AbortController();
    const onRunAbort = () => controller.abort(ctx.runSignal.reason);
    ctx.runSignal.addEventListener('abort', onRunAbort, { once: true });
    void server.exited.then((info) => controller.abort(exitedError(info)));
    // A hung server (or an external endpoint gone away) shows no exit: its /health says it.
    const health = watchHealth(server, ctx.health);
    void health.stoppedAnswering.then((reason) => controller.abort(reason));
    try {
      const result = await ctx.manifest.phase(`eval:${spec.name}`, () =>
        evaluatorFor(spec).run(evaluation, endpoint, {
          runDir: ctx.runDir,
          evalDir,
          signal: controller.signal,
          display: ctx.display,
          mask: ctx.mask,
          resume: ctx.resume,
        }),
      );
      // An evaluator that returns despite an interruption must not turn it into a result.
      ctx.runSignal.throwIfAborted();
      summaries.push(summarizeEval(result));
      if (result.errors > 0)
        ctx.display.warn(
          `${spec.name}: ${result.errors} of ${result.num} requests failed (see ${result.predictions_file})`,
        );
    } catch (error) {
      const reason: unknown = controller.signal.aborted ? controller.signal.reason : error;
      if (reason instanceof InterruptedError) {
        summaries.push(await interruptedEval(evaluation, evalDir, reason.message, ctx.display));
        throw reason;
      }
      // Error texts can quote a response body or a log line: mask before it reaches the console or a file.
      const message = ctx.mask(describeEvalFailure(reason, server));
      summaries.push(failedEval(evaluation, 'failed', message));
      ctx.display.warn(`${spec.name} failed: ${message}`);
      // The server is gone or no longer answers: the evaluations after this one would only fail the same way.
      if (
        reason instanceof ServerExitedError ||
        reason instanceof ServerStoppedAnsweringError ||
        reason instanceof ServerUnresponsiveError
      )
        serverDied = message;
    } finally {
      health.stop();
      ctx.runSignal.removeEventListener('abort', onRunAbort);
      ctx.display.evalEnd();
    }
  }
  return summaries;
}

/** Why the run failed, in one message: the first failed evaluation, or the requests that failed. */
export function evaluationFailure(evals: EvalSummary[]): string | null {
  const failed = evals.find((e) => e.status === 'failed');
  if (failed) return `${failed.name}: ${failed.error}`;
  const withErrors = evals.filter((e) => e.errors > 0);
  if (withErrors.length === 0) return null;
  return withErrors
    .map((e) => `${e.name}: ${e.errors} of ${e.num} requests failed (predictions.jsonl has each error)`)
    .join('; ');
}
