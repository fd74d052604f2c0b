import { join } from 'node:path';
import { ExitCode, InterruptedError } from '../errors.js';
import { loadPlan, selectEvals, type LoadedPlan } from '../plan/load.js';
import type { Plan } from '../plan/schema.js';
import { orphansOf } from '../server/leftovers/sweep.js';
import type { ServePlan } from '../server/runtime.js';
import { abortable } from '../util/abortable.js';
import { createDisplay, type RunDisplay } from '../util/display.js';
import { dryRunText } from './dry-run.js';
import { preflightBeforeRun } from './preflight.js';
import { prepareServe } from './prepare.js';
import type { RunReporter } from './reporter.js';
import { createRunDir } from './run-dir.js';
import { runPlan } from './run-plan.js';
import { trapStopSignals, type Interruption } from './signals.js';
import { summarizeMatrix, writeMatrixSummary, type MatrixSummary } from './summary.js';

export interface PlanRequest {
  file: string;
  /** `--set path=value` overrides. */
  overrides?: string[];
  /** `--only NAME`: the evaluations to keep. */
  only?: string[];
  /** `--output-dir`: replaces output.dir everywhere, the preflight's disk check included. */
  outputDir?: string;
  dryRun: boolean;
  skipPreflight: boolean;
}

interface Target {
  /** The matrix variant's name; empty for a plan without a matrix. */
  name: string;
  loaded: LoadedPlan;
  serve: ServePlan;
}

function withOutputDir(plan: Plan, outputDir: string | undefined): Plan {
  return outputDir === undefined ? plan : { ...plan, output: { ...plan.output, dir: outputDir } };
}

/** Every variant with its flags rendered, before anything starts: a plain plan is a matrix of one. */
async function prepareTargets(
  loaded: LoadedPlan,
  request: PlanRequest,
  signal: AbortSignal,
): Promise<Target[]> {
  const variants = loaded.variants.length > 0 ? loaded.variants : [{ name: '', plan: loaded.plan }];
  const targets: Target[] = [];
  for (const variant of variants) {
    signal.throwIfAborted();
    const variantLoaded = {
      ...loaded,
      plan: withOutputDir(selectEvals(variant.plan, request.only), request.outputDir),
    };
    // Detection runs vLLM (or Python) to its own time-out; an interruption need not wait for it.
    const serve = await abortable(prepareServe(variantLoaded, signal), signal);
    targets.push({ name: variant.name, loaded: variantLoaded, serve });
  }
  return targets;
}

/** Servers and containers of killed runs keep GPU memory: say so before starting another one. */
async function warnAboutLeftovers(targets: Target[], display: RunDisplay): Promise<void> {
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

async function runMatrix(
  loaded: LoadedPlan,
  targets: Target[],
  request: PlanRequest,
  context: { display: RunDisplay; interruption: Interruption; reporter: RunReporter },
): Promise<MatrixSummary> {
  const { display, interruption, reporter } = context;
  // One server up at a time: each variant is a whole run (start, evaluate, tear down) in its own folder.
  const { runDir } = createRunDir(request.outputDir ?? loaded.plan.output.dir, loaded.plan.name);
  const variants: MatrixSummary['variants'] = [];
  for (const target of targets) {
    // Interrupted between variants: the rest do not start, and the matrix still gets its summary.
    if (interruption.signal.aborted) break;
    display.info(`matrix variant ${target.name} (${variants.length + 1}/${targets.length})`);
    const summary = await runPlan(target.loaded, {
      display,
      serve: target.serve,
      runDir: join(runDir, target.name),
      interruption,
      writeReports: (s) => reporter.writeRun(s),
    });
    variants.push({ name: target.name, summary });
  }
  const matrix = summarizeMatrix(loaded.plan.name, runDir, variants, interruption.signal.aborted);
  writeMatrixSummary(matrix);
  return matrix;
}

/**
 * `evalrig plan`: load, render the flags for each variant, then either show the dry run or check the host and
 * run every variant, reporting through `reporter`. One signal trap covers the whole command, so a Ctrl-C during
 * version detection, the preflight or between matrix variants stops cleanly (exit 130) like one during a run.
 */
export async function executePlan(request: PlanRequest, reporter: RunReporter): Promise<number> {
  const display = createDisplay();
  const interruption = trapStopSignals((signal) =>
    display.warn(`${signal} received: stopping (press Ctrl-C again to kill the server at once)`),
  );
  try {
    const loaded = loadPlan(request.file, { overrides: request.overrides });
    const targets = await prepareTargets(loaded, request, interruption.signal);
    if (request.dryRun) {
      for (const { name, loaded: variantLoaded, serve } of targets) {
        if (name) console.log(`\n=== matrix variant ${name} ===`);
        console.log(dryRunText(variantLoaded, serve));
      }
      return ExitCode.ok;
    }
    await warnAboutLeftovers(targets, display);
    for (const target of targets) {
      interruption.signal.throwIfAborted();
      await abortable(
        preflightBeforeRun(target.loaded, target.serve, {
          skip: request.skipPreflight,
          warn: (message) => display.warn(message),
          signal: interruption.signal,
        }),
        interruption.signal,
      );
    }
    const [single] = targets;
    if (loaded.variants.length === 0 && single) {
      const summary = await runPlan(single.loaded, {
        display,
        serve: single.serve,
        interruption,
        writeReports: (s) => reporter.writeRun(s),
      });
      display.close();
      reporter.printRun(summary);
      return summary.exit_code;
    }
    const matrix = await runMatrix(loaded, targets, request, { display, interruption, reporter });
    display.close();
    reporter.writeAndPrintMatrix(matrix);
    return matrix.exit_code;
  } catch (error) {
    // Interrupted before a run began (detection, preflight): nothing was started, nothing to report.
    const reason: unknown = interruption.signal.aborted ? interruption.signal.reason : error;
    if (!(reason instanceof InterruptedError)) throw error;
    display.close();
    console.error(`\nInterrupted (${reason.signal}) before any server started.`);
    return ExitCode.interrupted;
  } finally {
    display.close();
    interruption.release();
  }
}
