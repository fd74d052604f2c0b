import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { ExitCode, InterruptedError } from '../errors.js';
import type { PreparedEval } from '../eval/evaluator.js';
import { evaluatorFor } from '../eval/registry.js';
import { openHistory } from '../history/database.js';
import type { Endpoint } from '../eval/types.js';
import type { LoadedPlan } from '../plan/load.js';
import { secretMasker } from '../plan/secrets.js';
import { ReadinessError } from '../server/readiness/readiness-error.js';
import { waitUntilReady, type ReadyInfo } from '../server/readiness/wait-until-ready.js';
import { runtimeFor } from '../server/registry.js';
import type { ServePlan, ServerHandle, StopReport } from '../server/runtime.js';
import type { RunDisplay } from '../util/display.js';
import { capacityFact, startupPhaseOf } from '../vllm/startup-phases.js';
import { checkGenerationBudget } from './budget.js';
import { evaluationFailure, prepareEvaluations, runEvaluations } from './evaluations.js';
import { judgeRun, recordRun, type HistoryPlace } from './history.js';
import { ManifestFile } from './manifest.js';
import { datasetChanges, ResumeRefusedError } from './resume/changes.js';
import { runProgress } from './resume/progress.js';
import { writeResolvedPlan } from './run-dir.js';
import type { Interruption } from './signals.js';
import { writeRunSummary, type EvalSummary, type RunStatus, type RunSummary } from './summary.js';
import { checkServedVersion } from './version-check.js';

export interface RunOptions {
  /** The run's folder: a new timestamped one, a matrix variant's, or the run being resumed. */
  runDir: string;
  /** Continue the run in runDir: a new attempt in its manifest, each evaluation from its predictions on disk. */
  resume: boolean;
  /** The command that continues this run (in the summary when it ends early), and the one that starts afresh. */
  commands: { resume: string; fresh: string };
  display: RunDisplay;
  /** The server spec and flags rendered for the detected vLLM version (prepare.ts). */
  serve: ServePlan;
  /** The command's signal trap: its abort stops this run, a repeated signal kills the server at once. */
  interruption: Interruption;
  /** Report files of the finished run (report.md), written after summary.json. */
  writeReports: (summary: RunSummary) => Promise<void>;
  /** Called once the server process is up: what the run needs after readiness may load while vLLM loads. */
  whileServerLoads?: () => void;
  /** Where the run is recorded, and what its gates compare with. */
  history: HistoryPlace;
}

/**
 * Loads what the run needs once the server answers (the evaluators' clients, the run history, the report layer)
 * while vLLM loads, when evalrig's own thread has nothing else to do; each loads on first use otherwise.
 */
function preloadWhileServerLoads(evals: LoadedPlan['plan']['evals'], options: RunOptions): void {
  for (const evaluator of new Set(evals.map((spec) => evaluatorFor(spec))))
    evaluator.preload?.().catch(() => undefined);
  options.whileServerLoads?.();
  setImmediate(() => {
    try {
      // Driver loaded, file created, schema migrated: the run's end only reads and writes (~0.4 ms, not ~5).
      openHistory(options.history.outputDir, { create: true }).close();
    } catch {
      // Judging and recording the run say what is wrong with the history, where it matters.
    }
  });
}

/**
 * How long the datasets may load before the server starts anyway. Data read from disk is done by then, so a broken
 * file still costs no server start; a download goes on while vLLM loads its weights.
 */
const DATASET_HEAD_START_MS = 100;

/** Whether `work` settles (either way) within `ms`; the timer is cleared as soon as it does. */
async function settledWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const settled = work.then(
    () => true,
    () => true,
  );
  return Promise.race([settled, timeUp]).finally(() => clearTimeout(timer));
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
 * and a teardown that happens on every path (success, failure, exception, SIGINT/SIGTERM/SIGHUP). Resumed, it is
 * one more attempt in the same folder; data that changed since the run began refuses it before anything starts.
 */
export async function runPlan(loaded: LoadedPlan, options: RunOptions): Promise<RunSummary> {
  const { plan } = loaded;
  const { display, serve, interruption, runDir, resume } = options;
  const { signal } = interruption;
  const runtime = runtimeFor(plan.server);
  const mask = secretMasker([...loaded.secrets, ...serve.secrets]);
  const startedAt = new Date();
  const runId = basename(runDir);
  mkdirSync(runDir, { recursive: true });
  const init = { runId, planFile: loaded.file, runtime: runtime.name, serve, startedAt };
  // A resumed run keeps the plan it began with: the resume was checked against it.
  if (!resume) writeResolvedPlan(runDir, loaded);
  const manifest = resume ? ManifestFile.continue(runDir, init) : ManifestFile.create(runDir, init);
  display.info(
    resume
      ? `resuming run directory ${runDir} (attempt ${manifest.attemptNumber})`
      : `run directory ${runDir}`,
  );

  let handle: ServerHandle | undefined;
  const stopOptions = { graceMs: plan.server.stop_timeout * 1000 };
  const forgetRepeat = interruption.onRepeat(() => {
    display.warn('second interrupt: killing the server now');
    void handle?.stop({ ...stopOptions, immediate: true });
  });

  let status: RunStatus = 'ok';
  let error: string | null = null;
  let interruptedBy: InterruptedError | undefined;
  let ready: ReadyInfo | undefined;
  let prepared: PreparedEval[] | undefined;
  const evals: EvalSummary[] = [];
  let teardown: StopReport | null = null;
  // Ends a dataset download still going when the run ends without needing it (the server failed to start).
  const runOver = new AbortController();
  try {
    signal.throwIfAborted();
    // The datasets load while vLLM loads its weights. They get a head start: data that fails at once (a missing
    // folder, a broken file) fails before anything starts; a resume compares them before anything starts.
    const loading = manifest
      .phase('datasets', () => prepareEvaluations(loaded, AbortSignal.any([signal, runOver.signal]), display))
      .then((evaluations) => {
        if (resume) {
          const changes = datasetChanges(manifest.data.datasets, evaluations);
          if (changes.length > 0) throw new ResumeRefusedError(runDir, changes, options.commands.fresh);
        }
        manifest.accept();
        manifest.update(
          (m) => (m.datasets = evaluations.map((e) => ({ eval: e.spec.name, ...e.provenance }))),
        );
        checkGenerationBudget(evaluations, plan.server.max_model_len, 'server.max_model_len');
        prepared = evaluations;
        return evaluations;
      });
    const dataFailure: { reason?: unknown } = {};
    const stopWaiting = new AbortController();
    loading.catch((reason: unknown) => {
      dataFailure.reason = reason;
      stopWaiting.abort(reason);
    });
    if (resume || (await settledWithin(loading, DATASET_HEAD_START_MS))) await loading;
    signal.throwIfAborted();
    // The handle is the teardown's the moment it exists: a manifest write that fails next must not orphan it.
    const server = await manifest.phase(
      'start',
      async () =>
        (handle = await runtime.start(serve, {
          runId,
          runDir,
          logFile: join(runDir, 'server.log'),
          planDir: loaded.dir,
          planName: plan.name,
          maskLine: mask,
          signal,
          warn: (m) => display.warn(m),
        })),
    );
    // An endpoint's address may carry a credential: the manifest keeps it masked.
    manifest.recordServer({
      displayArgv: server.displayArgv,
      baseUrl: mask(server.baseUrl),
      pid: server.pid,
      containerId: server.containerId,
    });
    preloadWhileServerLoads(plan.evals, options);
    if (server.launched) display.info(`started: ${server.displayArgv.join(' ')}`);
    // Start-up phases from the log feed the display and the manifest only, never the readiness decision.
    server.onLogLine((line) => {
      const phase = startupPhaseOf(line);
      if (phase && !ready) display.phase(phase);
      const capacity = capacityFact(line);
      if (capacity) Object.assign(manifest.data.server.capacity, capacity);
    });

    // Data that turns out broken while vLLM loads ends the wait at once (its failure is what the run reports);
    // the teardown follows.
    const forwardAbort = () => stopWaiting.abort(signal.reason);
    signal.addEventListener('abort', forwardAbort, { once: true });
    if (signal.aborted) forwardAbort();
    let up: ReadyInfo;
    try {
      up = await manifest.phase('ready', () =>
        waitUntilReady(server, { timeoutMs: plan.server.startup_timeout * 1000, signal: stopWaiting.signal }),
      );
    } catch (notReady) {
      throw 'reason' in dataFailure ? dataFailure.reason : notReady;
    } finally {
      signal.removeEventListener('abort', forwardAbort);
    }
    ready = up;
    const evaluations = await loading;
    manifest.update((m) => {
      m.server.vllm_version = up.vllmVersion;
      m.server.max_model_len = up.maxModelLen;
    });
    const versionNote = checkServedVersion(loaded.plan.server, serve, up.vllmVersion);
    if (versionNote) {
      display.warn(versionNote);
      manifest.update((m) => m.server.notices.push(versionNote));
    }
    display.info(
      `vLLM ${up.vllmVersion ?? '(version unknown)'} ready at ${mask(server.baseUrl)} after ${(up.waitedMs / 1000).toFixed(1)} s` +
        ` (model ${up.servedModel}${up.maxModelLen ? `, max_model_len ${up.maxModelLen}` : ''})`,
    );
    // The server's own limit, when the plan left it to vLLM: still before the first request.
    if (up.maxModelLen !== null && plan.server.max_model_len === undefined)
      checkGenerationBudget(evaluations, up.maxModelLen, 'the max_model_len the server reports');

    const endpoint: Endpoint = {
      baseUrl: `${server.baseUrl}/v1`,
      apiKey: server.apiKey,
      servedModel: up.servedModel,
      maxModelLen: up.maxModelLen ?? undefined,
    };
    await runEvaluations(evaluations, endpoint, server, {
      runDir,
      manifest,
      runSignal: signal,
      display,
      mask,
      resume,
      summaries: evals,
      health: {
        intervalMs: plan.server.health_interval * 1000,
        unhealthyAfterMs: plan.server.unhealthy_after * 1000,
      },
    });
    error = evaluationFailure(evals);
    if (error) status = 'failed';
  } catch (runError) {
    // Refused before anything started: the run directory stays as the earlier attempt left it.
    if (runError instanceof ResumeRefusedError) throw runError;
    manifest.accept();
    const reason: unknown = signal.aborted ? signal.reason : runError;
    if (reason instanceof InterruptedError) interruptedBy = reason;
    status = interruptedBy ? 'interrupted' : 'failed';
    error = describeFailure(reason, runDir);
  } finally {
    if (handle) {
      const server = handle;
      teardown = await manifest.phase('stop', () => server.stop(stopOptions));
      if (server.launched) display.info(`teardown: ${teardown.detail}`);
      if (!teardown.verified) {
        status = 'failed';
        error = `${error ? `${error}\n` : ''}teardown not verified: ${teardown.detail}`;
      }
    }
    forgetRepeat();
    runOver.abort();
  }

  const finishedAt = new Date();
  const summary: RunSummary = {
    status,
    exit_code:
      status === 'ok'
        ? ExitCode.ok
        : status === 'interrupted' && interruptedBy
          ? interruptedBy.exitCode
          : ExitCode.runFailed,
    run_dir: runDir,
    plan: plan.name,
    model:
      ready?.servedModel ?? handle?.servedModel ?? plan.server.served_model_name ?? plan.server.model ?? '',
    vllm_version: ready?.vllmVersion ?? null,
    attempt: manifest.attemptNumber,
    started_at: startedAt.toISOString(),
    finished_at: finishedAt.toISOString(),
    duration_s: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    error: error === null ? null : mask(error),
    ...runProgress(runDir, prepared, status !== 'ok'),
    resume_command: status === 'ok' ? null : options.commands.resume,
    evals,
    teardown,
  };
  // Verdicts before any file that shows them: summary.json, then report.md, then the console.
  const warn = (message: string) => display.warn(message);
  const judged = judgeRun(summary, manifest.data, options.history, plan.gates ?? [], warn);
  manifest.finish({
    status,
    exit_code: judged.exit_code,
    finished_at: judged.finished_at,
    teardown,
  });
  recordRun(judged, manifest.data, options.history, warn);
  writeRunSummary(judged);
  await options.writeReports(judged);
  return judged;
}
