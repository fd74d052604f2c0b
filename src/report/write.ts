import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { renderMarkdownReport } from './markdown.js';
import { summaryForFile, type RunSummary } from './summary.js';

/** Every file report of a finished run. */
export function writeRunReports(summary: RunSummary, runDir: string): void {
  writeJsonAtomic(join(runDir, 'summary.json'), summaryForFile(summary));
  writeFileSync(join(runDir, 'report.md'), renderMarkdownReport(summary));
}
