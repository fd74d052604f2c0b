import { UserError } from '../errors.js';
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

const DEFAULT_LIMIT = 20;

function parseLimit(text: string | undefined): number {
  if (text === undefined) return DEFAULT_LIMIT;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1)
    throw new UserError(`evalrig history: --limit wants a whole number of runs, 1 or more, not "${text}"`);
  return limit;
}

/** The history's database and renderers load only once the arguments are known to be right. */
const loadActions = () => import('./history-actions.js');

export const historyCommand: Command = {
  name: 'history',
  summary: 'show the scores of earlier runs; import run folders; pin a baseline for the gates',
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs('history', HELP, args, OPTIONS);
    const outputDir = values['output-dir'];
    const [first, ...rest] = positionals;
    if (first === 'import') {
      if (rest.length === 0)
        throw new UserError(`evalrig history import: name one or more run folders\n\n${HELP}`);
      return (await loadActions()).importFolders(rest, outputDir);
    }
    if (first === 'baseline') {
      const [target, ...more] = rest;
      if (values.clear) {
        if (target === undefined)
          throw new UserError(`evalrig history baseline --clear: name the plan\n\n${HELP}`);
        return (await loadActions()).clearBaselines(target, values.cell, outputDir);
      }
      if (target === undefined || more.length > 0)
        throw new UserError(`evalrig history baseline: name one run folder (or --clear <plan>)\n\n${HELP}`);
      return (await loadActions()).pinBaselines(target, outputDir);
    }
    if (values.clear) throw new UserError(`evalrig history: --clear goes with baseline\n\n${HELP}`);
    if (rest.length > 0) throw new UserError(`evalrig history: name at most one plan\n\n${HELP}`);
    return (await loadActions()).showHistory({
      ...(first === undefined ? {} : { plan: first }),
      ...(outputDir === undefined ? {} : { outputDir }),
      ...(values.cell === undefined ? {} : { cell: values.cell }),
      ...(values.eval === undefined ? {} : { evalName: values.eval }),
      limit: parseLimit(values.limit),
      json: values.json === true,
    });
  },
};
