import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname, platform, release } from 'node:os';
import { basename, join } from 'node:path';
import { stringify } from 'yaml';
import { evaluatorFor } from './eval/registry.js';
import type { DatasetProvenance } from './datasets/types.js';
import type { Endpoint } from './eval/types.js';
import type { LoadedPlan } from './plan/load.js';
import { secretMasker } from './plan/secrets.js';
import type { RunDisplay } from './report/display.js';
import { writeRunReports } from './report/write.js';
import { summarizeEval, type EvalSummary, type RunStatus, type RunSummary } from './report/summary.js';
import { createRunDir, writeJsonAtomic } from './run/run-dir.js';
import { InterruptedError, trapStopSignals } from './run/signals.js';
import { startDockerServer } from './server/docker.js';
import { externalServer } from './server/external.js';
import { findFatalLine } from './server/fatal-line.js';
import { startLocalServer } from './server/local.js';
import { portIsFree, reservePort } from './server/ports.js';
import { ReadinessError, waitUntilReady, type ReadyInfo } from './server/readiness.js';
import type { ServerHandle, StopReport } from './server/runtime.js';
import { capacityFact, startupPhaseOf } from './server/startup-phases.js';
import { evalrigVersion } from './version.js';
import type { ServePlan } from './run/prepare.js';
import { compareVersions, parseVllmVersion } from './server/vllm-version.js';
import { ExitCode } from './commands/command.js';

export interface RunOptions {
  /** --output-dir: replaces the plan's output.dir. */
  outputDir?: string;
  /** Use this run directory (a matrix variant's folder) instead of a new timestamped one. */
  runDir?: string;
  display: RunDisplay;
  /** The server spec and flags rendered for the detected vLLM version (prepare.ts). */
  serve: ServePlan;
}

/** Phase timings for the manifest, in milliseconds. */
type Timings = Record<string, { started_at: string; duration_ms: number }>;

async function timed<T>(timings: Timings, phase: string, work: () => Promise<T>): Promise<T> {
  const start = Date.now();
  try {
    return await work();
  } finally {
    timings[phase] = { started_at: new Date(start).toISOString(), duration_ms: Date.now() - start };
  }
}

class ServerExitedError extends Error {}

/** Start the server the plan describes (or attach to an external one). */
async function startServer(
  loaded: LoadedPlan,
  serve: ServePlan,
  ctx: { runId: string; runDir: string; maskLine: (l: string) => string; warn: (message: string) => void },
): Promise<ServerHandle> {
  const { server } = serve;
  if (server.runtime === 'external') return externalServer(server);
  const startContext = {
    runId: ctx.runId,
    runDir: ctx.runDir,
    logFile: join(ctx.runDir, 'server.log'),
    planDir: loaded.dir,
    maskLine: ctx.maskLine,
    reasoningFlags: serve.reasoningFlags,
  };
  if (server.runtime === 'docker') return startDockerServer(server, startContext, { planName: loaded.plan.name, warn: ctx.warn });
  let port: number;
  if (server.port === 'auto') {
    const reservation = await reservePort(server.host);
    port = reservation.port;
    await reservation.release();
  } else {
    port = server.port;
    if (!(await portIsFree(server.host, port))) {
      throw new Error(`port ${port} on ${server.host} is already in use. Stop what listens there, or set server.port: auto.`);
    }
  }
  return startLocalServer(server, port, startContext);
}

/**
 * One run, start to finish: run directory, server start, readiness, each evaluation, reports, and a teardown
 * that happens on every path (success, failure, exception, SIGINT/SIGTERM/SIGHUP).
 */
export async function runPlan(loaded: LoadedPlan, options: RunOptions): Promise<RunSummary> {
  const { plan } = loaded;
  const { display } = options;
  const mask = secretMasker(loaded.secrets);
  const startedAt = new Date();
  const { runDir, runId } = options.runDir
    ? { runDir: options.runDir, runId: basename(options.runDir) }
    : createRunDir(options.outputDir ?? plan.output.dir, plan.name, startedAt);
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, 'plan.resolved.yaml'), mask(stringify(plan)));

  const timings: Timings = {};
  const manifest = {
    evalrig_version: evalrigVersion(),
    run_id: runId,
    plan_file: loaded.file,
    host: { hostname: hostname(), platform: `${platform()} ${release()}`, node: process.version, pid: process.pid },
    started_at: startedAt.toISOString(),
    server: {
      runtime: plan.server.runtime,
      argv: [] as string[],
      pid: null as number | null,
      container_id: null as string | null,
      base_url: null as string | null,
      vllm_version: null as string | null,
      vllm_version_detected: options.serve.version?.raw ?? null,
      vllm_version_source: options.serve.versionSource,
      notices: options.serve.notices,
      max_model_len: null as number | null,
      capacity: {} as Record<string, number>,
    },
    datasets: [] as DatasetProvenance[],
    phases: timings,
    teardown: null as StopReport | null,
  };
  const writeManifest = () => writeJsonAtomic(join(runDir, 'manifest.json'), manifest);
  writeManifest();
  display.info(`run directory ${runDir}`);

  const controller = new AbortController();
  let handle: ServerHandle | undefined;
  const stopOptions = { graceMs: plan.server.stop_timeout * 1000 };
  const untrap = trapStopSignals(
    controller,
    (signal) => display.warn(`${signal} received: stopping${handle?.runtime === 'external' ? '' : ' vLLM'} (press Ctrl-C again to kill it at once)`),
    () => {
      display.warn('second interrupt: killing the server now');
      void handle?.stop({ ...stopOptions, immediate: true });
    },
  );

  let status: RunStatus = 'ok';
  let error: string | null = null;
  let ready: ReadyInfo | undefined;
  const evals: EvalSummary[] = [];
  let teardown: StopReport | null = null;
  try {
    handle = await timed(timings, 'start', () => startServer(loaded, options.serve, { runId, runDir, maskLine: mask, warn: (m) => display.warn(m) }));
    manifest.server.argv = handle.displayArgv;
    manifest.server.base_url = handle.baseUrl;
    manifest.server.pid = handle.pid ?? null;
    manifest.server.container_id = handle.containerId ?? null;
    writeManifest();
    if (handle.runtime !== 'external') display.info(`started: ${handle.displayArgv.join(' ')}`);
    handle.onLogLine((line) => {
      const phase = startupPhaseOf(line);
      if (phase && !ready) display.phase(phase);
      const capacity = capacityFact(line);
      if (capacity) Object.assign(manifest.server.capacity, capacity);
    });

    const server = handle;
    ready = await timed(timings, 'ready', () =>
      waitUntilReady(server, { timeoutMs: plan.server.startup_timeout * 1000, signal: controller.signal }),
    );
    manifest.server.vllm_version = ready.vllmVersion;
    checkVersionMatches(options.serve, ready.vllmVersion);
    manifest.server.max_model_len = ready.maxModelLen;
    writeManifest();
    display.info(
      `vLLM ${ready.vllmVersion ?? '(version unknown)'} ready at ${server.baseUrl} after ${(ready.waitedMs / 1000).toFixed(1)} s` +
        ` (model ${ready.servedModel}${ready.maxModelLen ? `, max_model_len ${ready.maxModelLen}` : ''})`,
    );

    const endpoint: Endpoint = {
      baseUrl: `${server.baseUrl}/v1`,
      apiKey: server.apiKey,
      servedModel: ready.servedModel,
      maxModelLen: ready.maxModelLen ?? undefined,
    };
    for (const spec of plan.evals) {
      if (controller.signal.aborted) break;
      const evalDir = join(runDir, 'evals', spec.name);
      mkdirSync(evalDir, { recursive: true });
      // An evaluation stops at once when the run is interrupted or the server dies under it.
      const evalController = new AbortController();
      const onRunAbort = () => evalController.abort(controller.signal.reason);
      controller.signal.addEventListener('abort', onRunAbort, { once: true });
      void server.exited.then((exit) => evalController.abort(new ServerExitedError(`vLLM exited during evaluation (code ${exit.code ?? exit.signal})`)));
      try {
        const result = await timed(timings, `eval:${spec.name}`, () =>
          evaluatorFor(spec).run(spec, endpoint, {
            runDir,
            evalDir,
            planDir: loaded.dir,
            signal: evalController.signal,
            display,
            datasets: plan.datasets,
            recordDataset: (provenance) => {
              manifest.datasets.push(provenance);
              writeManifest();
            },
          }),
        );
        // An evaluator that returns despite an interruption must not turn it into a result.
        if (controller.signal.aborted) throw controller.signal.reason;
        evals.push(summarizeEval(result));
        if (result.errors > 0) display.warn(`${spec.name}: ${result.errors} of ${result.num} requests failed (see predictions.jsonl)`);
      } catch (evalError) {
        const reason: unknown = evalController.signal.aborted ? evalController.signal.reason : evalError;
        if (reason instanceof InterruptedError) throw reason;
        const message = describeEvalFailure(reason, server);
        evals.push({ name: spec.name, backend: spec.backend, dataset: spec.dataset, metric: 'mean_acc', status: 'failed', num: 0, score: null, subsets: [], truncated: 0, errors: 0, error: message });
        display.warn(`${spec.name} failed: ${message}`);
        if (reason instanceof ServerExitedError) break;
      } finally {
        controller.signal.removeEventListener('abort', onRunAbort);
        display.evalEnd();
      }
    }
    if (evals.some((e) => e.status !== 'ok' || e.errors > 0)) {
      status = 'failed';
      error = evals.find((e) => e.error)?.error ?? 'some requests failed; see predictions.jsonl';
    }
  } catch (runError) {
    const reason: unknown = controller.signal.aborted ? controller.signal.reason : runError;
    if (reason instanceof InterruptedError) {
      status = 'interrupted';
      error = reason.message;
    } else {
      status = 'failed';
      error = reason instanceof Error ? reason.message : String(reason);
      if (reason instanceof ReadinessError && reason.kind !== 'exited' && reason.tail.length > 0) {
        error += `\n  last lines of server.log:\n${reason.tail.slice(-10).map((l) => `    ${l}`).join('\n')}`;
      }
    }
  } finally {
    if (handle) {
      const server = handle;
      teardown = await timed(timings, 'stop', () => server.stop(stopOptions));
      if (server.runtime !== 'external') display.info(`teardown: ${teardown.detail}`);
      if (!teardown.verified) {
        status = 'failed';
        error = `${error ? `${error}\n` : ''}teardown not verified: ${teardown.detail}`;
      }
    }
    untrap();
  }

  const finishedAt = new Date();
  const exitCode = status === 'ok' ? ExitCode.ok : status === 'interrupted' ? ExitCode.interrupted : ExitCode.runFailed;
  const summary: RunSummary = {
    status,
    exit_code: exitCode,
    run_dir: runDir,
    plan: plan.name,
    model: ready?.servedModel ?? handle?.servedModel ?? plan.server.served_model_name ?? plan.server.model ?? '',
    vllm_version: ready?.vllmVersion ?? null,
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_s: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    error: error === null ? null : mask(error),
    evals,
    teardown,
  };
  manifest.teardown = teardown;
  writeManifest();
  writeRunReports(summary, runDir);
  return summary;
}

/** The flags were rendered for the version detected before start; a different server version makes them suspect. */
function checkVersionMatches(serve: ServePlan, reported: string | null): void {
  const detected = serve.version;
  const actual = reported === null ? null : parseVllmVersion(reported);
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

