import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, InterruptedError } from '../errors.js';
import { loadPlan, selectEvals, type LoadedPlan } from '../plan/load.js';
import { matrixLayout, type Plan } from '../plan/schema.js';
import { secretMasker } from '../plan/secrets.js';
import { orphansOf } from '../server/leftovers/sweep.js';
import { runtimeFor } from '../server/registry.js';
import type { ServePlan } from '../server/runtime.js';
import { abortable } from '../util/abortable.js';
import { createDisplay, type RunDisplay } from '../util/display.js';
import { dryRunText, matrixDryRunLine } from './dry-run.js';
import { preflightBeforeRun } from './preflight.js';
import { hostClashes, hostHasGpus, type CellOnHost } from './parallel-check.js';
import { runPooled } from './pool.js';
import { prepareServe } from './prepare.js';
import type { RunReporter } from './reporter.js';
import { matrixChanges, planChanges, resolvedPlans, ResumeRefusedError } from './resume/changes.js';
import { pastablePath, planCommand, type PlanCommandLine } from './resume/command-line.js';
import { locateRun } from './resume/locate.js';
import { createRunDir, MANIFEST_FILE, writeResolvedPlan } from './run-dir.js';
import { trapStopSignals, type Interruption } from './signals.js';
import {
  readFinishedRun,
  summarizeMatrix,
  writeMatrixSummary,
  type MatrixSummary,
  type RunSummary,
} from './summary.js';

export interface PlanRequest extends PlanCommandLine {
  dryRun: boolean;
  /** `--resume DIR` or `--resume latest`: continue that run in its own folder. */
  resume?: string;
}

interface Variant {
  /** The matrix variant's name; empty for a plan without a matrix. */
  name: string;
  loaded: LoadedPlan;
}

interface Target extends Variant {
  serve: ServePlan;
}

/** What every run of the command shares. */
interface RunContext {
  display: RunDisplay;
  interruption: Interruption;
  /** The report layer, loaded once a server is up or a run ends (a dry run never loads it). */
  reporter: () => Promise<RunReporter>;
  commands: { resume: string; fresh: string };
  resuming: boolean;
  /** Of a resumed run, the variants that ended ok already, by name: reported as they are, not run again. */
  finished: Map<string, RunSummary>;
  /** The output folder, whose history.sqlite records every run, and the plan's name there. */
  history: { outputDir: string; plan: string };
  /** When the command began: the clock every display line shows. */
  startedAt: number;
  /** The run's own modules (the history database among them), loading since the preflight began. */
  runPlan: Promise<typeof import('./run-plan.js').runPlan>;
}

function withOutputDir(plan: Plan, outputDir: string | undefined): Plan {
  return outputDir === undefined ? plan : { ...plan, output: { ...plan.output, dir: outputDir } };
}

/** Every variant as it will run: a plain plan is a matrix of one. */
function variantsOf(loaded: LoadedPlan, request: PlanRequest): Variant[] {
  const variants = loaded.variants.length > 0 ? loaded.variants : [{ name: '', plan: loaded.plan }];
  return variants.map((variant) => ({
    name: variant.name,
    loaded: { ...loaded, plan: withOutputDir(selectEvals(variant.plan, request.only), request.outputDir) },
  }));
}

/** A variant's own run folder inside the matrix's; a plain plan's run is the folder itself. */
function folderOf(runDir: string, variant: Variant): string {
  return variant.name ? join(runDir, variant.name) : runDir;
}

const hasStarted = (runDir: string) => existsSync(join(runDir, MANIFEST_FILE));

/**
 * Refuses to resume a run whose plan changed in what decides its results, naming every difference. Variants the
 * matrix never reached have nothing to compare.
 */
function refuseChangedPlan(
  runDir: string,
  loaded: LoadedPlan,
  variants: Variant[],
  freshCommand: string,
): void {
  const changes: string[] = [];
  if (loaded.variants.length > 0) {
    const { run, now } = resolvedPlans(runDir, loaded);
    changes.push(...matrixChanges(run, now));
  }
  for (const variant of variants) {
    const folder = folderOf(runDir, variant);
    if (!hasStarted(folder)) continue;
    const { run, now } = resolvedPlans(folder, variant.loaded);
    const prefix = variant.name ? `matrix variant ${variant.name}: ` : '';
    changes.push(...planChanges(run, now).map((change) => prefix + change));
  }
  if (changes.length > 0) throw new ResumeRefusedError(runDir, changes, freshCommand);
}

/** The variants of a resumed run that ended ok already, by name. */
function finishedRuns(runDir: string, variants: Variant[]): Map<string, RunSummary> {
  const finished = new Map<string, RunSummary>();
  for (const variant of variants) {
    const summary = readFinishedRun(folderOf(runDir, variant));
    if (summary) finished.set(variant.name, summary);
  }
  return finished;
}

/** Every variant with its flags rendered, before anything starts. */
async function prepareTargets(variants: Variant[], signal: AbortSignal): Promise<Target[]> {
  const targets: Target[] = [];
  for (const variant of variants) {
    signal.throwIfAborted();
    // Detection runs vLLM (or Python) to its own time-out; an interruption need not wait for it.
    const serve = await abortable(prepareServe(variant.loaded, signal), signal);
    targets.push({ ...variant, serve });
  }
  return targets;
}

function serveOf(targets: Target[], name: string): ServePlan {
  const target = targets.find((candidate) => candidate.name === name);
  if (!target) throw new Error(`evalrig: matrix variant ${name} was not prepared`);
  return target.serve;
}

/** Servers and containers of killed runs keep GPU memory: say so before starting another one. */
async function warnAboutLeftovers(targets: Variant[], display: RunDisplay): Promise<void> {
  const seen = new Set<string>();
  for (const { loaded } of targets) {
    if (seen.has(loaded.plan.server.runtime)) continue;
    seen.add(loaded.plan.server.runtime);
    const orphans = await orphansOf(loaded.plan.server);
    if (orphans)
      display.warn(
        `${orphans.names.length} ${orphans.label} left by crashed evalrig runs (${orphans.names.join(', ')}): ` +
          '`evalrig cleanup --yes` stops them.',
      );
  }
}

async function runTarget(target: Target, runDir: string, context: RunContext): Promise<RunSummary> {
  const runPlan = await context.runPlan;
  return runPlan(target.loaded, {
    runDir,
    // A variant the matrix never reached starts afresh in its folder.
    resume: context.resuming && hasStarted(runDir),
    commands: context.commands,
    display: context.display,
    serve: target.serve,
    interruption: context.interruption,
    writeReports: async (s) => (await context.reporter()).writeRun(s),
    whileServerLoads: () => void context.reporter(),
    history: { ...context.history, cell: target.name },
  });
}

function onHost({ name, loaded }: Target): CellOnHost {
  const { server } = loaded.plan;
  return { name, server, needs: runtimeFor(server).hostNeeds(server, process.env) };
}

/**
 * One variant of a matrix whose variants run at once: its lines carry its name and no live bar (several cannot
 * share one), and its report is printed whole as soon as it ends.
 */
async function runParallelCell(target: Target, runDir: string, context: RunContext): Promise<RunSummary> {
  const display = createDisplay(process.stderr, {
    prefix: target.name,
    plain: true,
    startedAt: context.startedAt,
  });
  const summary = await runTarget(target, runDir, { ...context, display });
  display.close();
  console.log(`\n=== matrix variant ${target.name}: ${summary.status} ===`);
  (await context.reporter()).printRun(summary);
  return summary;
}

async function runMatrix(
  loaded: LoadedPlan,
  targets: Target[],
  runDir: string,
  context: RunContext,
): Promise<MatrixSummary> {
  const { display, interruption } = context;
  const maxParallel = loaded.plan.matrix ? matrixLayout(loaded.plan.matrix).maxParallel : 1;
  const startedAt = Date.now();
  // The matrix's plan: a resume checks its variants against it.
  if (!context.resuming) writeResolvedPlan(runDir, loaded);
  const ended = new Map(context.finished);
  for (const name of context.finished.keys())
    display.info(`matrix variant ${name}: ended ok in an earlier attempt, not run again`);
  const pending = targets.filter((target) => !context.finished.has(target.name));
  const parallel = maxParallel > 1 && pending.length > 1;
  if (parallel) {
    display.info(`${pending.length} matrix variants to run, up to ${maxParallel} at once`);
    const hasGpus = await hostHasGpus({ signal: interruption.signal });
    for (const clash of hostClashes(pending.map(onHost), { hasGpus })) display.warn(clash);
  }
  // Each variant is a whole run (start, evaluate, tear down) in its own folder. Interrupted, the variants running
  // stop (they share the signal) and the rest do not start; the matrix still gets its summary.
  await runPooled(pending, maxParallel, interruption.signal, async (target) => {
    display.info(`matrix variant ${target.name} (${targets.indexOf(target) + 1}/${targets.length})`);
    const folder = folderOf(runDir, target);
    const summary = parallel
      ? await runParallelCell(target, folder, context)
      : await runTarget(target, folder, context);
    ended.set(target.name, summary);
  });
  const variants = targets.flatMap(({ name }) => {
    const summary = ended.get(name);
    return summary ? [{ name, summary }] : [];
  });
  const reason: unknown = interruption.signal.reason;
  const matrix = summarizeMatrix(loaded.plan.name, runDir, variants, {
    interruption: reason instanceof InterruptedError ? reason : undefined,
    resumeCommand: context.commands.resume,
    maxParallel,
    notStarted: targets.filter(({ name }) => !ended.has(name)).map(({ name }) => name),
    durationS: (Date.now() - startedAt) / 1000,
  });
  writeMatrixSummary(matrix);
  return matrix;
}

/**
 * `evalrig plan`: load, render the flags for each variant, then either show the dry run or check the host and
 * run every variant, reporting through `reporter`. With `resume`, the run continues in its folder (variants that
 * ended ok are not run again) once its plan is found unchanged in what decides the results. One signal trap
 * covers the whole command, so a signal during version detection, the preflight or between matrix variants stops
 * cleanly (exit 128 + the signal's number) like one during a run.
 */
export async function executePlan(
  request: PlanRequest,
  loadReporter: () => Promise<RunReporter>,
): Promise<number> {
  const startedAt = Date.now();
  const display = createDisplay(process.stderr, { startedAt });
  const interruption = trapStopSignals((signal) =>
    display.warn(`${signal} received: stopping (press Ctrl-C again to kill the server at once)`),
  );
  try {
    const loaded = loadPlan(request.file, { overrides: request.overrides });
    const isMatrix = loaded.variants.length > 0;
    const variants = variantsOf(loaded, request);
    const outputDir = request.outputDir ?? loaded.plan.output.dir;
    // Commands are printed and kept in summary.json: a secret given with --set must not be.
    const mask = secretMasker(loaded.secrets);
    const freshCommand = mask(planCommand(request));
    const resumeDir =
      request.resume === undefined
        ? undefined
        : locateRun(request.resume, {
            outputDir,
            planName: loaded.plan.name,
            matrix: isMatrix,
            freshCommand,
          });
    if (resumeDir) refuseChangedPlan(resumeDir, loaded, variants, freshCommand);

    // Version detection runs beside the leftover search and the preflight's probes, which take its result when it
    // comes; a flag it rejects still stops the command before any preflight line.
    const preparing = prepareTargets(variants, interruption.signal);
    preparing.catch(() => undefined);
    if (request.dryRun) {
      const targets = await preparing;
      if (loaded.plan.matrix) console.log(matrixDryRunLine(loaded.plan.matrix));
      for (const { name, loaded: variantLoaded, serve } of targets) {
        if (name) console.log(`\n=== matrix variant ${name} ===`);
        console.log(await dryRunText(variantLoaded, serve, interruption.signal));
      }
      return ExitCode.ok;
    }

    // The run's modules and those that start the server load while the host is probed: most of the preflight is
    // waiting for other processes. A dry run does without them.
    const runPlan = import('./run-plan.js').then((module) => module.runPlan);
    runPlan.catch(() => undefined);
    // The report layer loads once the first server is up, while vLLM loads (or when a run ends without one).
    let reporter: Promise<RunReporter> | undefined;
    const reporterLoaded = () => {
      reporter ??= loadReporter();
      reporter.catch(() => undefined);
      return reporter;
    };
    for (const runtime of new Set(variants.map((variant) => runtimeFor(variant.loaded.plan.server))))
      runtime.preload?.().catch(() => undefined);
    const finished = resumeDir ? finishedRuns(resumeDir, variants) : new Map<string, RunSummary>();
    const pending = variants.filter((variant) => !finished.has(variant.name));
    await warnAboutLeftovers(pending, display);
    for (const variant of pending) {
      interruption.signal.throwIfAborted();
      const serve = preparing.then((targets) => serveOf(targets, variant.name));
      await abortable(
        preflightBeforeRun(variant.loaded, serve, {
          skip: request.skipPreflight,
          warn: (message) => display.warn(message),
          signal: interruption.signal,
        }),
        interruption.signal,
      );
    }
    const targets = await preparing;

    const runDir = resumeDir ?? createRunDir(outputDir, loaded.plan.name).runDir;
    const context: RunContext = {
      display,
      interruption,
      reporter: reporterLoaded,
      commands: { resume: mask(planCommand(request, runDir)), fresh: freshCommand },
      resuming: resumeDir !== undefined,
      finished,
      history: { outputDir, plan: loaded.plan.name },
      startedAt,
      runPlan,
    };
    const [single] = targets;
    if (!isMatrix && single) {
      const earlier = finished.get(single.name);
      if (earlier) display.info(`${pastablePath(runDir)} ended ok in an earlier attempt: nothing to run`);
      const summary = earlier ?? (await runTarget(single, runDir, context));
      display.close();
      const report = await reporterLoaded();
      report.printRun(summary);
      await report.announce?.(summary, single.loaded.plan);
      return summary.exit_code;
    }
    const matrix = await runMatrix(loaded, targets, runDir, context);
    display.close();
    const report = await reporterLoaded();
    report.writeAndPrintMatrix(matrix);
    await report.announce?.(matrix, loaded.plan);
    return matrix.exit_code;
  } catch (error) {
    // Interrupted before a run began (detection, preflight): nothing was started, nothing to report.
    const reason: unknown = interruption.signal.aborted ? interruption.signal.reason : error;
    if (!(reason instanceof InterruptedError)) throw error;
    display.close();
    console.error(`\nInterrupted (${reason.signal}) before any server started.`);
    return reason.exitCode;
  } finally {
    display.close();
    interruption.release();
  }
}
