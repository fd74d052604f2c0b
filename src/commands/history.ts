import { existsSync } from 'node:fs';
import { ExitCode, UserError } from '../errors.js';
import { BASELINE_FILE, topRunFolder } from '../history/baseline-file.js';
import { openHistory } from '../history/database.js';
import { loadPlan } from '../plan/load.js';
import { historyJson, renderHistory } from '../report/trend.js';
import { importRunFolders } from '../run/history-import.js';
import { parseCommandArgs, type Command } from './command.js';

const HELP = `Usage: evalrig history [plan] [--eval NAME] [--cell NAME] [--limit N] [--json] [--output-dir DIR]
       evalrig history import <run-dir>... [--output-dir DIR]
       evalrig history baseline <run-dir> [--output-dir DIR]
       evalrig history baseline --clear <plan> [--cell NAME] [--output-dir DIR]

Every run evalrig plan finishes is recorded in <output>/history.sqlite: scores with their 95 % intervals,
request figures, phase timings, status and exit code. Gates compare with it (docs/gates.md).

  history [plan]     without a plan, the plans recorded; with one, its scores run by run (date, run, model,
                     score, 95 % interval, change from the run before, status), and in a terminal a sparkline per
                     evaluation. plan is a plan's name, or its file (whose output.dir is then the default).
  import <run-dir>   records run folders from their files (summary.json, manifest.json, result.json): runs made
                     before, or a history rebuilt after it was lost. The same folder twice is one run; a matrix
                     folder imports each variant; a folder named in <output>/<plan>/BASELINE is pinned again.
  baseline <run-dir> pins that run as the baseline of its plan (a matrix folder: of each cell), which gates with
                     "against: baseline" compare with; <output>/<plan>/BASELINE names it, so that the nightly
                     pruning keeps it.
  baseline --clear <plan>   unpins the plan's baselines (--cell NAME: only that cell's).

Options:
  --output-dir DIR   the output folder holding history.sqlite (default: the plan file's output.dir, for a run
                     folder the folder it was written to, else outputs)
  --eval NAME        only this evaluation
  --cell NAME        only this matrix cell
  --limit N          the newest N runs of each cell (default 20)
  --json             print the runs as JSON
  -h, --help         show this help`;

const OPTIONS = {
  'output-dir': { type: 'string' },
  eval: { type: 'string' },
  cell: { type: 'string' },
  limit: { type: 'string' },
  json: { type: 'boolean' },
  clear: { type: 'boolean' },
} as const;

const DEFAULT_OUTPUT_DIR = 'outputs';
const DEFAULT_LIMIT = 20;

function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UserError(`evalrig history: --limit wants a whole number of runs, 1 or more, not "${text}"`);
  return limit;
}

/** A plan's name and output folder: from its file when given one, else the name as it is. */
function planOf(argument: string, outputDir: string | undefined): { plan: string; outputDir: string } {
  if (/\.ya?ml$/i.test(argument) && existsSync(argument)) {
    const { plan } = loadPlan(argument);
    return { plan: plan.name, outputDir: outputDir ?? plan.output.dir };
  }
  return { plan: argument, outputDir: outputDir ?? DEFAULT_OUTPUT_DIR };
}

function importFolders(dirs: string[], outputDir: string | undefined): number {
  if (dirs.length === 0)
    throw new UserError(`evalrig history import: name one or more run folders\n\n${HELP}`);
  for (const run of importRunFolders(dirs, outputDir)) {
    const repinned = run.repinned ? `, pinned again as the baseline (${BASELINE_FILE})` : '';
    console.log(`recorded ${run.run_dir} (${run.status}) in ${run.history}${repinned}`);
  }
  return ExitCode.ok;
}

function pinBaselines(dirs: string[], outputDir: string | undefined): number {
  if (dirs.length !== 1)
    throw new UserError(`evalrig history baseline: name one run folder (or --clear <plan>)\n\n${HELP}`);
  // Recording first makes any run folder pinnable, whether or not the history had it.
  for (const run of importRunFolders(dirs, outputDir)) {
    const history = openHistory(run.output_dir);
    try {
      history.pinBaseline(run.run_dir);
    } finally {
      history.close();
    }
    const cell = run.cell ? ` cell ${run.cell}` : '';
    console.log(
      `pinned ${topRunFolder(run.run_dir, run.cell)} as the baseline of ${run.plan}${cell}: gates with ` +
        `"against: baseline" compare with it, and ${BASELINE_FILE} keeps it from pruning`,
    );
  }
  return ExitCode.ok;
}

function clearBaselines(
  planArgument: string | undefined,
  cell: string | undefined,
  outputDir: string | undefined,
) {
  if (planArgument === undefined)
    throw new UserError(`evalrig history baseline --clear: name the plan\n\n${HELP}`);
  const { plan, outputDir: root } = planOf(planArgument, outputDir);
  const history = openHistory(root);
  try {
    const cleared = history.clearBaselines(plan, cell);
    console.log(
      cleared === 0
        ? `${plan} had no baseline pinned${cell ? ` for cell ${cell}` : ''}`
        : `unpinned ${cleared} baseline${cleared === 1 ? '' : 's'} of ${plan}${cell ? ` cell ${cell}` : ''}`,
    );
  } finally {
    history.close();
  }
  return ExitCode.ok;
}

export const historyCommand: Command = {
  name: 'history',
  summary: 'show the scores of earlier runs; import run folders; pin a baseline for the gates',
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs('history', HELP, args, OPTIONS);
    const outputDir = values['output-dir'];
    const [first, ...rest] = positionals;
    if (first === 'import') return importFolders(rest, outputDir);
    if (first === 'baseline')
      return values.clear ? clearBaselines(rest[0], values.cell, outputDir) : pinBaselines(rest, outputDir);
    if (values.clear) throw new UserError(`evalrig history: --clear goes with baseline\n\n${HELP}`);
    if (rest.length > 0) throw new UserError(`evalrig history: name at most one plan\n\n${HELP}`);

    const limit = parseLimit(values.limit);
    const where =
      first === undefined ? { outputDir: outputDir ?? DEFAULT_OUTPUT_DIR } : planOf(first, outputDir);
    const history = openHistory(where.outputDir);
    try {
      const query = {
        ...('plan' in where ? { plan: where.plan } : {}),
        ...(values.cell === undefined ? {} : { cell: values.cell }),
        ...(values.eval === undefined ? {} : { evalName: values.eval }),
        limit,
      };
      console.log(
        values.json
          ? JSON.stringify(historyJson(history, query), null, 2)
          : renderHistory(history, { ...query, sparkline: process.stdout.isTTY }),
      );
    } finally {
      history.close();
    }
    return ExitCode.ok;
  },
};
