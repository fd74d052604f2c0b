import type { Plan } from '../plan/schema.js';
import type { MatrixSummary, RunSummary } from './summary.js';

/**
 * How finished runs reach people: report files and the console. The report layer implements it and the command
 * hands it in; the run layer only calls it, so that it never imports the renderers above it.
 */
export interface RunReporter {
  /** Report files of one finished run: a plan, or one matrix variant (its summary.json is written already). */
  writeRun(summary: RunSummary): void;
  /** What the console shows when a plan without a matrix ends. */
  printRun(summary: RunSummary): void;
  /** Files and console table of a finished matrix (its summary.json is written already). */
  writeAndPrintMatrix(summary: MatrixSummary): void;
  /** Tells the world how the command ended (the plan's notifications), last of all; never rejects. */
  announce?(summary: RunSummary | MatrixSummary, plan: Plan): Promise<void>;
}
