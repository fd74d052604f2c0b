import type { RunReporter } from '../run/reporter.js';
import type { RunSummary } from '../run/summary.js';
import { continuation } from './continuation.js';
import { renderComparisonTable, writeMatrixReport } from './matrix.js';
import { renderConsoleTable } from './table.js';
import { writeRunReport } from './write.js';

/** A run that ended early says how far it got and how to go on, just above the run directory. */
function printContinuation(summary: Parameters<typeof continuation>[0]): void {
  const line = continuation(summary);
  if (line) console.error(`\n${line}`);
}

function printRunResult(summary: RunSummary): void {
  if (summary.evals.length > 0) console.log(renderConsoleTable(summary));
  if (summary.error) {
    const what = summary.status === 'interrupted' ? 'Interrupted' : 'Run failed';
    console.error(`\n${what}: ${summary.error}`);
  }
  printContinuation(summary);
  console.log(`\nRun directory: ${summary.run_dir}`);
}

/** report.md beside each run's summary.json, EvalScope's table on the console, the run directory last. */
export const consoleAndFileReporter: RunReporter = {
  writeRun: writeRunReport,
  printRun: printRunResult,
  writeAndPrintMatrix(matrix) {
    writeMatrixReport(matrix);
    console.log(renderComparisonTable(matrix));
    for (const { name, summary } of matrix.variants) {
      if (summary.error) console.error(`\n${name}: ${summary.status}: ${summary.error}`);
      if (summary.samples && summary.status !== 'ok')
        console.error(`${name}: ${summary.samples.done} of ${summary.samples.total} samples done`);
    }
    printContinuation({ resume_command: matrix.resume_command });
    console.log(`\nRun directory: ${matrix.run_dir}`);
  },
};
