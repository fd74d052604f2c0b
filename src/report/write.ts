import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunSummary } from '../run/summary.js';
import { renderMarkdownReport } from './markdown.js';

/** report.md of a finished run. */
export function writeRunReport(summary: RunSummary): void {
  writeFileSync(join(summary.run_dir, 'report.md'), renderMarkdownReport(summary));
}
