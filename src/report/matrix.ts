import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Table from 'cli-table3';
import { ExitCode } from '../errors.js';
import type { MatrixSummary } from '../run/summary.js';
import { continuation } from './continuation.js';
import { formatScore, renderMarkdownTable } from './table.js';

/** One row per eval × subset, one column per variant: the results side by side. */
export function comparisonRows(matrix: MatrixSummary): { head: string[]; rows: string[][] } {
  const keys: string[] = [];
  const cell = new Map<string, number>();
  for (const { name, summary } of matrix.variants) {
    for (const evalSummary of summary.evals) {
      // An interrupted evaluation's figures cover part of its samples: not comparable with a finished one's.
      if (evalSummary.status !== 'ok') continue;
      for (const subset of [
        ...evalSummary.subsets,
        ...(evalSummary.score === null ? [] : [{ name: 'OVERALL', score: evalSummary.score }]),
      ]) {
        const key = `${evalSummary.name}\u0000${subset.name}`;
        if (!keys.includes(key)) keys.push(key);
        cell.set(`${name}\u0000${key}`, subset.score);
      }
    }
  }
  const head = ['Eval', 'Subset', ...matrix.variants.map((v) => v.name)];
  const rows = keys.map((key) => [
    ...key.split('\u0000'),
    ...matrix.variants.map((v) => formatScore(cell.get(`${v.name}\u0000${key}`))),
  ]);
  rows.push(['status', '', ...matrix.variants.map((v) => v.summary.status)]);
  return { head, rows };
}

export function renderComparisonTable(matrix: MatrixSummary): string {
  const { head, rows } = comparisonRows(matrix);
  const table = new Table({ head, style: { head: [], border: [] } });
  table.push(...rows);
  return table.toString();
}

const listed = (names: readonly string[]) => `${names.length} (${names.join(', ')})`;

/**
 * How the variants ended, in one line: "2 of 5 variants failed: a, c", then those interrupted, never started, or
 * whose gates failed. Summaries written before evalrig recorded `not_started` count only the variants they hold.
 */
export function matrixOutcomeLine(matrix: MatrixSummary): string {
  const notStarted = matrix.not_started ?? [];
  const total = matrix.variants.length + notStarted.length;
  const named = (status: string) =>
    matrix.variants.filter((v) => v.summary.status === status).map((v) => v.name);
  const [failed, interrupted] = [named('failed'), named('interrupted')];
  const gated = matrix.variants
    .filter((v) => v.summary.status === 'ok' && v.summary.exit_code === ExitCode.gateFailed)
    .map((v) => v.name);
  const parts = [
    `${failed.length} of ${total} variants failed${failed.length > 0 ? `: ${failed.join(', ')}` : ''}`,
    ...(interrupted.length > 0 ? [`interrupted: ${listed(interrupted)}`] : []),
    ...(notStarted.length > 0 ? [`not started: ${listed(notStarted)}`] : []),
    ...(gated.length > 0 ? [`a gate failed in ${listed(gated)}`] : []),
  ];
  const allOk = parts.length === 1 && failed.length === 0;
  return `Matrix: ${allOk ? `all ${total} variants ended ok` : parts.join('; ')}`;
}

/** report.md of a matrix: the variants side by side, a link to each variant's own report. */
export function writeMatrixReport(matrix: MatrixSummary): void {
  const { head, rows } = comparisonRows(matrix);
  const text = [
    `# ${matrix.plan}: matrix, ${matrix.status.toUpperCase()}`,
    '',
    renderMarkdownTable(head, rows),
    '',
    matrixOutcomeLine(matrix),
    '',
  ];
  for (const { name, summary } of matrix.variants)
    text.push(`- ${name}: [report](${name}/report.md), ${summary.status}`);
  const onwards = continuation({ resume_command: matrix.resume_command }, (command) => `\`${command}\``);
  if (onwards) text.push('', onwards);
  writeFileSync(join(matrix.run_dir, 'report.md'), text.join('\n') + '\n');
}
