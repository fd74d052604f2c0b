import { existsSync } from 'node:fs';
import { ExitCode } from '../errors.js';
import { BASELINE_FILE, topRunFolder } from '../history/baseline-file.js';
import { openHistory } from '../history/database.js';
import { loadPlan } from '../plan/load.js';
import { historyJson, renderHistory } from '../report/trend.js';
import { importRunFolders } from '../run/history-import.js';

/** Where a history lives when neither the command line nor a plan file names an output folder. */
const DEFAULT_OUTPUT_DIR = 'outputs';

/** A plan's name and output folder: from its file when given one, else the name as it is. */
function planOf(argument: string, outputDir: string | undefined): { plan: string; outputDir: string } {
  if (/\.ya?ml$/i.test(argument) && existsSync(argument)) {
    const { plan } = loadPlan(argument);
    return { plan: plan.name, outputDir: outputDir ?? plan.output.dir };
  }
  return { plan: argument, outputDir: outputDir ?? DEFAULT_OUTPUT_DIR };
}

/** `evalrig history import <run-dir>...`. */
export function importFolders(dirs: string[], outputDir: string | undefined): number {
  for (const run of importRunFolders(dirs, outputDir)) {
    const repinned = run.repinned ? `, pinned again as the baseline (${BASELINE_FILE})` : '';
    console.log(`recorded ${run.run_dir} (${run.status}) in ${run.history}${repinned}`);
  }
  return ExitCode.ok;
}

/** `evalrig history baseline <run-dir>`. */
export function pinBaselines(dir: string, outputDir: string | undefined): number {
  // Recording first makes any run folder pinnable, whether or not the history had it.
  for (const run of importRunFolders([dir], outputDir)) {
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

/** `evalrig history baseline --clear <plan>`. */
export function clearBaselines(
  planArgument: string,
  cell: string | undefined,
  outputDir: string | undefined,
): number {
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

export interface HistoryListing {
  /** A plan's name or file; none: every plan recorded. */
  plan?: string;
  outputDir?: string;
  cell?: string;
  evalName?: string;
  limit: number;
  json: boolean;
}

/** `evalrig history [plan]`: the runs as a table (a sparkline in a terminal) or JSON. */
export function showHistory(listing: HistoryListing): number {
  const where =
    listing.plan === undefined
      ? { outputDir: listing.outputDir ?? DEFAULT_OUTPUT_DIR }
      : planOf(listing.plan, listing.outputDir);
  const history = openHistory(where.outputDir);
  try {
    const query = {
      ...('plan' in where ? { plan: where.plan } : {}),
      ...(listing.cell === undefined ? {} : { cell: listing.cell }),
      ...(listing.evalName === undefined ? {} : { evalName: listing.evalName }),
      limit: listing.limit,
    };
    console.log(
      listing.json
        ? JSON.stringify(historyJson(history, query), null, 2)
        : renderHistory(history, { ...query, sparkline: process.stdout.isTTY }),
    );
  } finally {
    history.close();
  }
  return ExitCode.ok;
}
