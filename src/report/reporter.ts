import type { RunReporter } from '../run/reporter.js';
import type { RunSummary } from '../run/summary.js';
import { renderComparisonTable, writeMatrixReport } from './matrix.js';
import { renderConsoleTable } from './table.js';
import { writeRunReport } from './write.js';

function printRunResult(summary: RunSummary): void {
  if (summary.evals.length > 0) console.log(renderConsoleTable(summary));
  if (summary.error) {
    const what = summary.status === 'interrupted' ? 'Interrupted' : 'Run failed';
    console.error(`\n${what}: ${summary.error}`);
  }
  if (summary.status === 'interrupted') {
    console.error('Predictions finished before the interruption are kept in the run directory.');
  }
  console.log(`\nRun directory: ${summary.run_dir}`);
}

/** report.md beside each run's summary.json, EvalScope's table on the console, the run directory last. */
export const consoleAndFileReporter: RunReporter = {
  writeRun: writeRunReport,
  printRun: printRunResult,
  writeAndPrintMatrix(matrix) {
    writeMatrixReport(matrix);
    console.log(renderComparisonTable(matrix));
    for (const { name, summary } of matrix.variants)
      if (summary.error) console.error(`\n${name}: ${summary.status}: ${summary.error}`);
    console.log(`\nRun directory: ${matrix.run_dir}`);
  },
};
