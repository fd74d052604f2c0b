import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { PredictionRecord } from '../eval/types.js';
import { HISTORY_FILE, openHistory } from '../history/database.js';
import type { TrendPoint } from '../history/record.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { renderMatrixHtml } from './html/matrix-page.js';
import { renderRunHtml, type RunPageInput } from './html/run-page.js';
import { writeEvalScopeLayouts } from './evalscope-layout.js';
import { renderJunit } from './junit.js';
import { writeMatrixReport } from './matrix.js';
import {
  comparedRunDir,
  readFolder,
  readPredictions,
  readRunFolder,
  type MatrixFolder,
  type RunFolder,
} from './run-folder.js';
import { writeRunReport } from './write.js';

export const HTML_FILE = 'report.html';
export const JUNIT_FILE = 'junit.xml';

function predictionsOf(folder: RunFolder): Map<string, PredictionRecord[]> {
  return new Map(folder.summary.evals.map(({ name }) => [name, readPredictions(folder.dir, name)]));
}

/** The compared run, when `compared_with` names a run folder that can be read; otherwise the page goes without. */
function comparedRun(folder: RunFolder): RunPageInput['compared'] {
  const dir = comparedRunDir(folder.summary);
  if (!dir) return null;
  try {
    const compared = readRunFolder(dir);
    return { summary: compared.summary, predictions: predictionsOf(compared) };
  } catch {
    return null;
  }
}

/** The newest runs a trend chart shows. */
const TREND_RUNS = 50;

/**
 * Each evaluation's score over the plan's runs (this one included, once recorded), from the history.sqlite of the
 * output folder that holds the run; empty where there is no history or it cannot be read.
 */
export function historyTrend(folder: RunFolder): Map<string, TrendPoint[]> {
  for (let dir = dirname(folder.dir); dir !== dirname(dir); dir = dirname(dir)) {
    if (!existsSync(join(dir, HISTORY_FILE))) continue;
    try {
      const history = openHistory(dir);
      try {
        const run = history.run(folder.dir);
        if (!run) return new Map();
        return new Map(
          folder.summary.evals.map(({ name }) => [name, history.trend(run.plan, run.cell, name, TREND_RUNS)]),
        );
      } finally {
        history.close();
      }
    } catch {
      return new Map();
    }
  }
  return new Map();
}

/** report.html and junit.xml of a run folder, from its files, the compared run's and the run history. */
export function writeRunHtmlAndJunit(folder: RunFolder): void {
  const html = renderRunHtml({
    folder,
    predictions: predictionsOf(folder),
    compared: comparedRun(folder),
    trend: historyTrend(folder),
  });
  writeFileAtomic(join(folder.dir, HTML_FILE), html);
  writeFileAtomic(join(folder.dir, JUNIT_FILE), renderJunit(folder.summary.plan, [{ folder }]));
}

/** report.html (the variants side by side) and junit.xml (every variant's cases) of a matrix folder. */
export function writeMatrixHtmlAndJunit(matrix: MatrixFolder): void {
  writeFileAtomic(join(matrix.dir, HTML_FILE), renderMatrixHtml(matrix.summary));
  const runs = matrix.variants.map(({ name, folder }) => ({ variant: name, folder }));
  writeFileAtomic(join(matrix.dir, JUNIT_FILE), renderJunit(matrix.summary.plan, runs));
}

function regenerateRun(folder: RunFolder): string[] {
  writeRunReport(folder.summary);
  writeRunHtmlAndJunit(folder);
  writeEvalScopeLayouts(folder);
  return ['report.md', HTML_FILE, JUNIT_FILE].map((file) => join(folder.dir, file));
}

/**
 * `evalrig report DIR`: report.md, report.html, junit.xml and the native evaluations in EvalScope's layout again
 * from a run folder's files, or for a matrix folder those of each variant and of the matrix. Reads and writes files
 * only. Returns the report files written.
 */
export function regenerateReports(dir: string): string[] {
  const folder = readFolder(resolve(dir));
  if ('run' in folder) return regenerateRun(folder.run);
  const written = folder.matrix.variants.flatMap(({ folder: variant }) => regenerateRun(variant));
  writeMatrixReport(folder.matrix.summary);
  writeMatrixHtmlAndJunit(folder.matrix);
  return [...written, ...['report.md', HTML_FILE, JUNIT_FILE].map((file) => join(folder.matrix.dir, file))];
}
