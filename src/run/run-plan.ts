import { ExitCode, InterruptedError } from '../errors.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { stringify } from 'yaml';
import type { PreparedEval } from '../eval/evaluator.js';
import { evaluatorFor } from '../eval/registry.js';
import type { Endpoint } from '../eval/types.js';
import type { LoadedPlan } from '../plan/load.js';
import { secretMasker } from '../plan/secrets.js';
import type { RunDisplay } from '../report/display.js';
import { summarizeEval, type EvalSummary, type RunStatus, type RunSummary } from '../report/summary.js';
import { writeRunReports } from '../report/write.js';
import { ManifestFile } from './manifest.js';
import type { ServePlan } from './prepare.js';
import { createRunDir } from './run-dir.js';
import { trapStopSignals } from './signals.js';
import { startDockerServer } from '../server/docker/start.js';
import { externalServer } from '../server/external/handle.js';
import { findFatalLine } from '../vllm/fatal-lines.js';
import { startLocalServer } from '../server/local/start.js';
import { findFreePort, portIsFree } from '../util/ports.js';
import { ReadinessError, waitUntilReady, type ReadyInfo } from '../server/readiness.js';
import type { ServerHandle, StopReport } from '../server/runtime.js';
import { capacityFact, startupPhaseOf } from '../vllm/startup-phases.js';
import { compareVersions, parseVersion } from '../util/pep440.js';

export interface RunOptions {
  /** Use this run directory (a matrix variant's folder) instead of a new timestamped one. */
  runDir?: string;
  display: RunDisplay;
  /** The server spec and flags rendered for the detected vLLM version (prepare.ts). */
  serve: ServePlan;
}

class ServerExitedError extends Error {}

interface StartInput {
  loaded: LoadedPlan;
  serve: ServePlan;
  runId: string;
  runDir: string;
  maskLine: (line: string) => string;
  warn: (message: string) => void;
  signal: AbortSignal;
}

/** Start the server the plan describes (or attach to an external one). */
async function startServer({
  loaded,
  serve,
  runId,
  runDir,
  maskLine,
  warn,
  signal,
}: StartInput): Promise<ServerHandle> {
  const { server } = serve;
  if (server.runtime === 'external') return externalServer(server);
  const ctx = {
    runId,
    runDir,
    logFile: join(runDir, 'server.log'),
    planDir: loaded.dir,
    maskLine,
    reasoningFlags: serve.reasoningFlags,
    signal,
  };
  if (server.runtime === 'docker')
    return startDockerServer(server, ctx, { planName: loaded.plan.name, warn });
  if (server.port !== 'auto' && !(await portIsFree(server.host, server.port))) {
    throw new Error(
      `port ${server.port} on ${server.host} is already in use. Stop what listens there, or set server.port: auto.`,
    );
  }
  const port = server.port === 'auto' ? await findFreePort(server.host) : server.port;
  return startLocalServer(server, port, ctx);
}

/** Load and check every evaluation's data before the server starts: a broken dataset costs no GPU time. */
async function prepareEvaluations(
  loaded: LoadedPlan,
  manifest: ManifestFile,
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
    manifest.update((m) => m.datasets.push(evaluation.provenance));
    prepared.push(evaluation);
  }
  return prepared;
}

function failedEval(prepared: PreparedEval, status: 'failed' | 'skipped', error: string): EvalSummary {
  const { spec } = prepared;
  return {
    name: spec.name,
    backend: spec.backend,
    dataset: spec.dataset,
    metric: 'mean_acc',
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
 * Each evaluation in turn. One that fails is recorded and the next one runs; when the server dies, the rest are
 * recorded as skipped; an interruption propagates (InterruptedError) after the current one stops.
 */
async function runEvaluations(
  prepared: PreparedEval[],
  endpoint: Endpoint,
  server: ServerHandle,
  ctx: {
    runDir: string;
    manifest: ManifestFile;
    runSignal: AbortSignal;
    display: RunDisplay;
    mask: (text: string) => string;
  },
): Promise<EvalSummary[]> {
  const summaries: EvalSummary[] = [];
  let serverDied: string | undefined;
  for (const evaluation of prepared) {
    const { spec } = evaluation;
    if (serverDied) {
      summaries.push(failedEval(evaluation, 'skipped', `not run: ${serverDied}`));
      continue;
    }
    const evalDir = join(ctx.runDir, 'evals', spec.name);
    mkdirSync(evalDir, { recursive: true });
    // The evaluation stops at once when the run is interrupted or the server dies under it.
    const controller = new AbortController();
    const onRunAbort = () => controller.abort(ctx.runSignal.reason);
    ctx.runSignal.addEventListener('abort', onRunAbort, { once: true });
    void server.exited.then((exit) =>
      controller.abort(
        new ServerExitedError(`vLLM exited during evaluation (code ${exit.code ?? exit.signal})`),
      ),
    );
    try {
      const result = await ctx.manifest.phase(`eval:${spec.name}`, () =>
        evaluatorFor(spec).run(evaluation, endpoint, {
          runDir: ctx.runDir,
          evalDir,
          signal: controller.signal,
          display: ctx.display,
          mask: ctx.mask,
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
      if (reason instanceof InterruptedError) throw reason;
      // Error texts can quote a response body or a log line: mask before it reaches the console or a file.
      const message = ctx.mask(describeEvalFailure(reason, server));
      summaries.push(failedEval(evaluation, 'failed', message));
      ctx.display.warn(`${spec.name} failed: ${message}`);
      if (reason instanceof ServerExitedError) serverDied = message;
    } finally {
      ctx.runSignal.removeEventListener('abort', onRunAbort);
      ctx.display.evalEnd();
    }
  }
  return summaries;
}

/** Why the run failed, in one message: the first failed evaluation, or the requests that failed. */
function evaluationFailure(evals: EvalSummary[]): string | null {
  const failed = evals.find((e) => e.status === 'failed');
  if (failed) return `${failed.name}: ${failed.error}`;
  const withErrors = evals.filter((e) => e.errors > 0);
  if (withErrors.length === 0) return null;
  return withErrors
    .map((e) => `${e.name}: ${e.errors} of ${e.num} requests failed (predictions.jsonl has each error)`)
    .join('; ');
}

function describeFailure(reason: unknown, runDir: string): string {
  let message = reason instanceof Error ? reason.message : String(reason);
  if (reason instanceof ReadinessError && reason.tail.length > 0) {
    // The fatal line says why; the last lines show where. Fewer when the fatal line already explains it.
    const count = reason.fatal ? 5 : 10;
    const tail = reason.tail.slice(-count).map((l) => `    ${l}`);
    message += `\n  last lines of the server log (all of it: ${join(runDir, 'server.log')}):\n${tail.join('\n')}`;
  }
  return message;
}

/**
 * One run, start to finish: run directory, dataset checks, server start, readiness, each evaluation, reports,
 * and a teardown that happens on every path (success, failure, exception, SIGINT/SIGTERM/SIGHUP).
 */
export async function runPlan(loaded: LoadedPlan, options: RunOptions): Promise<RunSummary> {
  const { plan } = loaded;
  const { display, serve } = options;
  const mask = secretMasker(loaded.secrets);
  const startedAt = new Date();
  const { runDir, runId } = options.runDir
    ? { runDir: options.runDir, runId: basename(options.runDir) }
    : createRunDir(plan.output.dir, plan.name, startedAt);
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'plan.resolved.yaml'), mask(stringify(plan)));
  const manifest = new ManifestFile(runDir, {
    runId,
    planFile: loaded.file,
    runtime: plan.server.runtime,
    serve,
    startedAt,
  });
  display.info(`run directory ${runDir}`);

  const controller = new AbortController();
  let handle: ServerHandle | undefined;
  const stopOptions = { graceMs: plan.server.stop_timeout * 1000 };
  const untrap = trapStopSignals(
    controller,
    (signal) =>
      display.warn(
        `${signal} received: stopping${handle?.runtime === 'external' ? '' : ' vLLM'} (press Ctrl-C again to kill it at once)`,
      ),
    () => {
      display.warn('second interrupt: killing the server now');
      void handle?.stop({ ...stopOptions, immediate: true });
    },
  );

  let status: RunStatus = 'ok';
  let error: string | null = null;
  let ready: ReadyInfo | undefined;
  let evals: EvalSummary[] = [];
  let teardown: StopReport | null = null;
  try {
    const prepared = await manifest.phase('datasets', () =>
      prepareEvaluations(loaded, manifest, controller.signal, display),
    );
    controller.signal.throwIfAborted();
    const server = await manifest.phase('start', () =>
      startServer({
        loaded,
        serve,
        runId,
        runDir,
        maskLine: mask,
        warn: (m) => display.warn(m),
        signal: controller.signal,
      }),
    );
    handle = server;
    manifest.update((m) => {
      m.server.argv = server.displayArgv;
      m.server.base_url = server.baseUrl;
      m.server.pid = server.pid ?? null;
      m.server.container_id = server.containerId ?? null;
    });
    if (server.runtime !== 'external') display.info(`started: ${server.displayArgv.join(' ')}`);
    server.onLogLine((line) => {
      const phase = startupPhaseOf(line);
      if (phase && !ready) display.phase(phase);
      const capacity = capacityFact(line);
      if (capacity) Object.assign(manifest.data.server.capacity, capacity);
    });

    const up = await manifest.phase('ready', () =>
      waitUntilReady(server, { timeoutMs: plan.server.startup_timeout * 1000, signal: controller.signal }),
    );
    ready = up;
    manifest.update((m) => {
      m.server.vllm_version = up.vllmVersion;
      m.server.max_model_len = up.maxModelLen;
    });
    checkVersionMatches(serve, up.vllmVersion);
    display.info(
      `vLLM ${up.vllmVersion ?? '(version unknown)'} ready at ${server.baseUrl} after ${(up.waitedMs / 1000).toFixed(1)} s` +
        ` (model ${up.servedModel}${up.maxModelLen ? `, max_model_len ${up.maxModelLen}` : ''})`,
    );

    const endpoint: Endpoint = {
      baseUrl: `${server.baseUrl}/v1`,
      apiKey: server.apiKey,
      servedModel: up.servedModel,
      maxModelLen: up.maxModelLen ?? undefined,
    };
    evals = await runEvaluations(prepared, endpoint, server, {
      runDir,
      manifest,
      runSignal: controller.signal,
      display,
      mask,
    });
    error = evaluationFailure(evals);
    if (error) status = 'failed';
  } catch (runError) {
    const reason: unknown = controller.signal.aborted ? controller.signal.reason : runError;
    status = reason instanceof InterruptedError ? 'interrupted' : 'failed';
    error = describeFailure(reason, runDir);
  } finally {
    if (handle) {
      const server = handle;
      teardown = await manifest.phase('stop', () => server.stop(stopOptions));
      if (server.runtime !== 'external') display.info(`teardown: ${teardown.detail}`);
      if (!teardown.verified) {
        status = 'failed';
        error = `${error ? `${error}\n` : ''}teardown not verified: ${teardown.detail}`;
      }
    }
    untrap();
  }

  const finishedAt = new Date();
  const summary: RunSummary = {
    status,
    exit_code:
      status === 'ok' ? ExitCode.ok : status === 'interrupted' ? ExitCode.interrupted : ExitCode.runFailed,
    run_dir: runDir,
    plan: plan.name,
    model:
      ready?.servedModel ?? handle?.servedModel ?? plan.server.served_model_name ?? plan.server.model ?? '',
    vllm_version: ready?.vllmVersion ?? null,
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_s: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    error: error === null ? null : mask(error),
    evals,
    teardown,
  };
  manifest.update((m) => (m.teardown = teardown));
  writeRunReports(summary, runDir);
  return summary;
}

/** The flags were rendered for the version detected before start; a different server version makes them suspect. */
function checkVersionMatches(serve: ServePlan, reported: string | null): void {
  const detected = serve.version;
  const actual = reported === null ? null : parseVersion(reported);
  if (!detected || !actual || compareVersions(detected, actual) === 0) return;
  throw new Error(
    `vLLM reports version ${actual.raw} at /version, but the flags were rendered for ${detected.raw} (${serve.versionSource}). ` +
      'Fix server.vllm_version, or make server.executable point at the vLLM you mean to run.',
  );
}

function describeEvalFailure(reason: unknown, server: ServerHandle): string {
  if (reason instanceof ServerExitedError) {
    const fatal = findFatalLine(server.logTail(400));
    return `${reason.message}${fatal ? `: ${fatal.line}` : ''}`;
  }
  return reason instanceof Error ? reason.message : String(reason);
}
