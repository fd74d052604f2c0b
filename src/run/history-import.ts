import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';
import { UserError } from '../errors.js';
import type { EvalResult } from '../eval/types.js';
import { pinnedInFile } from '../history/baseline-file.js';
import { openHistory, resolveOutputDir } from '../history/database.js';
import { runRecordOf } from './history.js';
import type { Manifest } from './manifest.js';
import { evalDirOf, MANIFEST_FILE, RESOLVED_PLAN_FILE, SUMMARY_FILE } from './run-dir.js';
import type { MatrixSummary, RunSummary } from './summary.js';

/**
 * `evalrig history import`: run folders recorded from their files (summary.json, manifest.json, each
 * evals/<name>/result.json), so that a history lost or never kept can be rebuilt. Recording the same folder again
 * replaces its row, and a folder that `<output>/<plan>/BASELINE` pins is pinned again.
 */

export interface ImportedRun {
  run_dir: string;
  plan: string;
  cell: string;
  status: string;
  /** The output folder whose history it went into, and that history's file. */
  output_dir: string;
  history: string;
  /** Pinned again as its cell's baseline, as the BASELINE file says. */
  repinned: boolean;
}

function readJson<T>(file: string): T | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as T;
  } catch (error) {
    throw new UserError(`${file} is not valid JSON (${(error as Error).message}): it cannot be imported.`);
  }
}

function readSummary(runDir: string): RunSummary | MatrixSummary {
  const file = join(runDir, SUMMARY_FILE);
  const summary = readJson<RunSummary | MatrixSummary>(file);
  if (!summary)
    throw new UserError(
      `${runDir} has no ${SUMMARY_FILE}: only a run that ended (ok, failed or interrupted) can be imported; ` +
        'one whose evalrig was killed gets its summary when `evalrig plan <plan> --resume <run-dir>` finishes it.',
    );
  if (typeof summary.plan !== 'string' || !('variants' in summary || Array.isArray(summary.evals)))
    throw new UserError(`${file} is not the summary of an evalrig run.`);
  return summary;
}

/** The plan and cell of a run folder: a matrix variant's folder sits in its matrix's, whose plan lists it. */
function placeOf(runDir: string, summary: RunSummary): { plan: string; cell: string } {
  const matrixPlanFile = join(dirname(runDir), RESOLVED_PLAN_FILE);
  if (existsSync(matrixPlanFile)) {
    const matrixPlan = parse(readFileSync(matrixPlanFile, 'utf8')) as {
      name?: string;
      matrix?: { name?: string }[];
    } | null;
    const cell = basename(runDir);
    if (matrixPlan?.name && matrixPlan.matrix?.some((variant) => variant.name === cell))
      return { plan: matrixPlan.name, cell };
  }
  return { plan: summary.plan, cell: '' };
}

/** The output folder a run folder was written to: the parent of its `<plan>/` folder. */
function outputDirOf(runDir: string, plan: string): string {
  for (let folder = dirname(runDir); folder !== dirname(folder); folder = dirname(folder))
    if (basename(folder) === plan) return dirname(folder);
  throw new UserError(
    `${runDir} is not inside a folder named after its plan ${plan} (<output>/${plan}/<run>): ` +
      'give --output-dir to say which history it goes into.',
  );
}

function importRun(runDir: string, summary: RunSummary, outputDir: string | undefined): ImportedRun {
  const { plan, cell } = placeOf(runDir, summary);
  const root = resolveOutputDir(outputDir ?? outputDirOf(runDir, plan));
  const manifest = readJson<Manifest>(join(runDir, MANIFEST_FILE));
  const record = runRecordOf(summary, manifest, { plan, cell, runDir }, (evalName) =>
    readJson<Partial<EvalResult>>(join(evalDirOf(runDir, evalName), 'result.json')),
  );
  const history = openHistory(root, { create: true });
  try {
    history.record(record);
    const repinned = pinnedInFile(join(root, plan), runDir, cell) && !history.baseline(plan, cell);
    if (repinned) history.pinBaseline(runDir, { fromFile: true });
    return {
      run_dir: runDir,
      plan,
      cell,
      status: summary.status,
      output_dir: root,
      history: history.file,
      repinned,
    };
  } finally {
    history.close();
  }
}

/**
 * Records each run folder (a matrix folder: each of its variants) in the history of `outputDir`, or of the
 * output folder the run was written to. Returns what was recorded, in order.
 */
export function importRunFolders(dirs: readonly string[], outputDir?: string): ImportedRun[] {
  return dirs.flatMap((dir) => {
    const runDir = resolve(dir);
    const summary = readSummary(runDir);
    if (!('variants' in summary)) return [importRun(runDir, summary, outputDir)];
    return summary.variants.map(({ name }) => {
      const variantDir = join(runDir, name);
      const variantSummary = readSummary(variantDir);
      if ('variants' in variantSummary)
        throw new UserError(`${variantDir} holds a matrix summary where a variant's run was expected.`);
      return importRun(variantDir, variantSummary, outputDir);
    });
  });
}
