import type { RunReporter } from '../run/reporter.js';
import type { RunSummary } from '../run/summary.js';
import { continuation, resumeNotes } from './continuation.js';
import { writeEvalScopeLayouts } from './evalscope-layout.js';
import { matrixOutcomeLine, renderComparisonTable, writeMatrixReport } from './matrix.js';
import { readMatrixFolder, readRunFolder, type RunFolder } from './run-folder.js';
import { writeMatrixHtmlAndJunit, writeRunHtmlAndJunit } from './run-reports.js';
import { renderPerfTable } from './perf-table.js';
import { renderConsoleTable } from './table.js';
import { verdictConsoleLines } from './verdict.js';
import { writeRunReport } from './write.js';

/**
 * report.html, junit.xml and EvalScope's layout come beside report.md: a failure to write them is reported, and the run's outcome and
 * its other files stand (`evalrig report` can write them again later).
 */
function writeBesideReport(what: string, write: () => void): void {
  try {
    write();
  } catch (error) {
    console.error(`evalrig: ${what} not written: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A run that ended early says how far it got and how to go on, just above the run directory. */
function printContinuation(summary: Parameters<typeof continuation>[0]): void {
  const line = continuation(summary);
  if (line) console.error([`\n${line}`, ...resumeNotes(summary).map((note) => `  ${note}`)].join('\n'));
}

function printRunResult(summary: RunSummary): void {
  if (summary.evals.length > 0) console.log(renderConsoleTable(summary));
  const perfTable = renderPerfTable(summary);
  if (perfTable) console.log(perfTable);
  if (summary.error) {
    const what = summary.status === 'interrupted' ? 'Interrupted' : 'Run failed';
    console.error(`\n${what}: ${summary.error}`);
  }
  const verdict = verdictConsoleLines(summary);
  if (verdict.length > 0) console.log(`\n${verdict.join('\n')}`);
  printContinuation(summary);
  console.log(`\nRun directory: ${summary.run_dir}`);
}

/**
 * report.md, report.html and junit.xml beside each run's summary.json, EvalScope's table on the console, the run
 * directory last.
 */
export const consoleAndFileReporter: RunReporter = {
  writeRun(summary) {
    writeRunReport(summary);
    let folder: RunFolder | undefined;
    const readOnce = () => (folder ??= readRunFolder(summary.run_dir));
    writeBesideReport('report.html and junit.xml', () => writeRunHtmlAndJunit(readOnce()));
    writeBesideReport("the native evaluations in EvalScope's layout", () =>
      writeEvalScopeLayouts(readOnce()),
    );
  },
  printRun: printRunResult,
  writeAndPrintMatrix(matrix) {
    writeMatrixReport(matrix);
    writeBesideReport('report.html and junit.xml of the matrix', () =>
      writeMatrixHtmlAndJunit(readMatrixFolder(matrix.run_dir)),
    );
    console.log(renderComparisonTable(matrix));
    for (const { name, summary } of matrix.variants) {
      if (summary.error) console.error(`\n${name}: ${summary.status}: ${summary.error}`);
      if (summary.samples && summary.status !== 'ok')
        console.error(`${name}: ${summary.samples.done} of ${summary.samples.total} samples done`);
      const verdict = verdictConsoleLines(summary);
      if (verdict.length > 0) console.log(`\n${name}: ${verdict.join('\n')}`);
    }
    console.log(`\n${matrixOutcomeLine(matrix)}`);
    printContinuation({ resume_command: matrix.resume_command });
    console.log(`\nRun directory: ${matrix.run_dir}`);
  },
};
