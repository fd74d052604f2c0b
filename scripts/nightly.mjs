#!/usr/bin/env node
// The nightly job: runs plans one after another through `evalrig plan`, streaming their output, then prunes old
// run folders and prints one line per plan. Exits with the worst plan's code. See docs/nightly.md.
//
//   npm run build && node scripts/nightly.mjs configs/a.yaml configs/b.yaml [--output-dir DIR]
//       [--keep N] [--keep-days D] [--dry-run]
//
// The child runs in a process group of its own, so a signal reaches it exactly once: forwarded from here. Its
// vLLM teardown is evalrig's own; execa (not zx's shell) so that the pid signalled is evalrig's.
import { existsSync } from 'node:fs';
import { constants } from 'node:os';
import { join, relative, resolve } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { GATE_FAILED, isInterrupted, worstExitCode } from './lib/exit-severity.mjs';
import { applyRetention, listRunFolders, removeRunFolder } from './lib/run-retention.mjs';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/cli/cli.js');
// The heap bound `npm run plan` runs evalrig with (package.json): V8 otherwise sizes the heap against the host's
// memory and lets a long evaluation's garbage pile up; evalrig keeps counts, not records, so 1.5 GB is ample.
const NODE_FLAGS = ['--max-old-space-size=1536'];
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const USAGE = `Usage: node scripts/nightly.mjs <plan.yaml>... [--output-dir DIR] [--keep N] [--keep-days D] [--dry-run]

Runs each plan with \`evalrig plan\`, one after another, then prunes run folders under each plan's output
folder: a run folder stays when it is among the newest N (--keep), younger than D days (--keep-days), pinned
in <output>/<plan>/BASELINE, or made by this job. Without --keep and --keep-days nothing is pruned.

Options:
  --output-dir DIR  passed to evalrig plan: run folders go under DIR instead of each plan's output.dir
  --keep N          keep the newest N run folders of each plan (N >= 1)
  --keep-days D     keep run folders younger than D days (D > 0)
  --dry-run         evalrig plan --dry-run for each plan (nothing starts), and list what would be removed
  -h, --help        show this help

Exit code: the worst of the plans' codes, worst first: interrupted (128 + signal: 130 Ctrl-C, 143 SIGTERM,
129 SIGHUP) > a failure (1 run failed, 2 invalid plan, 4 preflight refused; the first such plan's code)
> 3 a gate failed > 0. After an interruption the remaining plans do not start and nothing is pruned.`;

const log = (message) => process.stdout.write(`[nightly] ${message}\n`);

function usageError(message) {
  process.stderr.write(`nightly: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function parseOptions(argv) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        'output-dir': { type: 'string' },
        keep: { type: 'string' },
        'keep-days': { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    usageError(error.message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (positionals.length === 0) usageError('give at least one plan file');
  const keep = values.keep === undefined ? undefined : Number(values.keep);
  if (keep !== undefined && !(Number.isInteger(keep) && keep >= 1))
    usageError(`--keep ${values.keep}: expected a whole number of at least 1`);
  const keepDays = values['keep-days'] === undefined ? undefined : Number(values['keep-days']);
  if (keepDays !== undefined && !(Number.isFinite(keepDays) && keepDays > 0))
    usageError(`--keep-days ${values['keep-days']}: expected a number of days above 0`);
  return { plans: positionals, outputDir: values['output-dir'], keep, keepDays, dryRun: values['dry-run'] };
}

/** What each exit code means, from evalrig's own table (dist/src/errors.js). */
function meaningOf(code, meanings) {
  if (code === GATE_FAILED) return 'a gate failed';
  const known = meanings.find(([known]) => known === code)?.[1];
  if (known) return known;
  return code > 128 ? `stopped by signal ${code - 128}` : 'failed';
}

/** The parts of the built evalrig this job reads: its plan loader, run folder layout and exit code meanings. */
async function loadEvalrig() {
  const load = (path) => import(pathToFileURL(join(ROOT, 'dist/src', path)).href);
  const [{ loadPlan }, { planRunsDir }, { EXIT_CODE_MEANINGS }] = await Promise.all([
    load('plan/load.js'),
    load('run/run-dir.js'),
    load('errors.js'),
  ]);
  return { loadPlan, planRunsDir, meanings: EXIT_CODE_MEANINGS };
}

/**
 * The folder the plan's runs go to, worked out as evalrig does (its own plan loader, from this working
 * directory); the reason instead when the plan cannot be read, which its run then reports in full.
 */
function runsFolderOf(plan, outputDir, evalrig) {
  try {
    const loaded = evalrig.loadPlan(plan);
    return {
      name: loaded.plan.name,
      dir: evalrig.planRunsDir(outputDir ?? loaded.plan.output.dir, loaded.plan.name),
    };
  } catch (error) {
    return { problem: String(error?.message ?? error).split('\n')[0] };
  }
}

const runNames = (dir) => listRunFolders(dir).map((run) => run.name);

/** The forwarded stop signal, once one came; the child running now receives each signal once. */
function forwardStopSignals() {
  const state = { signal: undefined, child: undefined };
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => {
      state.signal ??= signal;
      try {
        if (state.child?.pid) process.kill(state.child.pid, signal);
      } catch {
        // It ended just now: nothing left to stop.
      }
    });
  }
  return state;
}

async function runPlan(plan, options, stops) {
  const args = [...NODE_FLAGS, CLI, 'plan', plan];
  if (options.outputDir !== undefined) args.push('--output-dir', options.outputDir);
  if (options.dryRun) args.push('--dry-run');
  log(`${plan}: evalrig plan starting`);
  stops.child = execa(process.execPath, args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    reject: false,
    detached: true,
  });
  const result = await stops.child;
  stops.child = undefined;
  if (result.exitCode !== undefined) return result.exitCode;
  return result.signal ? 128 + constants.signals[result.signal] : 1;
}

function prune(folder, made, options) {
  const { kept, removed, pinned } = applyRetention(folder, {
    keep: options.keep,
    keepDays: options.keepDays,
    protect: made,
  });
  for (const name of removed) {
    if (options.dryRun) {
      log(`would remove ${join(folder, name)}`);
    } else {
      removeRunFolder(folder, name);
      log(`removed ${join(folder, name)}`);
    }
  }
  return { kept: kept.length, removed: removed.length, pinned: pinned.length };
}

function summaryLine(outcome, options, meanings) {
  const plan = outcome.folder.name ? `${outcome.plan} (${outcome.folder.name})` : outcome.plan;
  if (outcome.exitCode === undefined) return `${plan}: not run (interrupted before it started)`;
  const parts = [`exit ${outcome.exitCode} ${meaningOf(outcome.exitCode, meanings)}`];
  parts.push(outcome.made.length > 0 ? `run ${outcome.made.join(', ')}` : 'no run folder');
  if (outcome.folder.problem) parts.push('not pruned (the plan could not be read)');
  else if (!outcome.pruned) parts.push('not pruned (interrupted)');
  else {
    const removed = options.dryRun ? 'would be removed' : 'removed';
    const pinned = outcome.pruned.pinned > 0 ? ` (${outcome.pruned.pinned} pinned)` : '';
    const where = relative(process.cwd(), outcome.folder.dir) || '.';
    parts.push(`${outcome.pruned.kept} kept${pinned}, ${outcome.pruned.removed} ${removed} in ${where}`);
  }
  return `${plan}: ${parts.join('; ')}`;
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  if (!existsSync(CLI)) {
    process.stderr.write('nightly: dist/cli/cli.js is missing: run `npm run build` first\n');
    process.exit(2);
  }
  const evalrig = await loadEvalrig();
  const stops = forwardStopSignals();

  // Run folders present before the job: whatever appears afterwards was made by it and is never pruned.
  const outcomes = options.plans.map((plan) => {
    const folder = runsFolderOf(plan, options.outputDir, evalrig);
    return { plan, folder, before: folder.dir ? runNames(folder.dir) : [], made: [] };
  });
  for (const outcome of outcomes) {
    if (stops.signal) break;
    outcome.exitCode = await runPlan(outcome.plan, options, stops);
    if (isInterrupted(outcome.exitCode)) break;
  }
  const interrupted = Boolean(stops.signal) || outcomes.some((o) => isInterrupted(o.exitCode ?? 0));
  for (const outcome of outcomes) {
    if (outcome.folder.dir)
      outcome.made = runNames(outcome.folder.dir).filter((n) => !outcome.before.includes(n));
  }
  if (!interrupted) {
    // Plans may share a folder: each folder is pruned once, sparing the runs of every plan that writes there.
    const prunedByFolder = new Map();
    for (const outcome of outcomes) {
      const dir = outcome.folder.dir;
      if (!dir) continue;
      if (!prunedByFolder.has(dir)) {
        const made = outcomes.filter((o) => o.folder.dir === dir).flatMap((o) => o.made);
        prunedByFolder.set(dir, prune(dir, made, options));
      }
      outcome.pruned = prunedByFolder.get(dir);
    }
  }

  for (const outcome of outcomes) log(summaryLine(outcome, options, evalrig.meanings));
  const codes = outcomes.map((outcome) => outcome.exitCode ?? 0);
  if (stops.signal) codes.push(128 + constants.signals[stops.signal]);
  const exitCode = worstExitCode(codes);
  log(`exit ${exitCode} (${meaningOf(exitCode, evalrig.meanings)})`);
  process.exit(exitCode);
}

await main();
