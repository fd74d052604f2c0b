import Table from 'cli-table3';
import type { RunSummary } from '../run/summary.js';

/** Scores as EvalScope prints them: up to four decimals, trailing zeros dropped (0.7917, 0.75, 1.0). */
export function formatScore(value: number | null | undefined): string {
  return value === null || value === undefined
    ? '-'
    : value.toFixed(4).replace(/0+$/, '').replace(/\.$/, '.0');
}

/** A 95 % interval as `0.7437–0.9524`; '-' without one. */
export function formatInterval(interval: readonly [number, number] | null | undefined): string {
  return interval ? `${formatScore(interval[0])}–${formatScore(interval[1])}` : '-';
}

/**
 * The change of a score against the compared run, signed: `+0.05`, `-0.6`; '-' without one. The one way a score's
 * change is written, so the table, the comparison, the HTML report and the notifications agree.
 */
export function formatDelta(delta: number | null | undefined): string {
  if (delta === null || delta === undefined) return '-';
  return delta > 0 ? `+${formatScore(delta)}` : formatScore(delta);
}

/**
 * Rows like EvalScope's summary table: one per subset, then OVERALL (the micro mean); then evalrig's own columns,
 * the score's 95 % interval and, on OVERALL, its change against the compared run.
 */
export function scoreRows(summary: RunSummary): string[][] {
  const rows: string[][] = [];
  for (const evalSummary of summary.evals) {
    const dataset = `${evalSummary.dataset}${evalSummary.name !== evalSummary.dataset ? ` (${evalSummary.name})` : ''}`;
    // One row, no subsets: an interrupted evaluation's figures are those of the samples answered until then.
    if (evalSummary.status !== 'ok') {
      rows.push([
        summary.model,
        dataset,
        evalSummary.metric,
        evalSummary.status.toUpperCase(),
        String(evalSummary.num),
        formatScore(evalSummary.score),
        '-',
        '-',
      ]);
      continue;
    }
    for (const subset of evalSummary.subsets) {
      rows.push([
        summary.model,
        dataset,
        evalSummary.metric,
        subset.name,
        String(subset.num),
        formatScore(subset.score),
        formatInterval(subset.ci95),
        '',
      ]);
    }
    rows.push([
      summary.model,
      dataset,
      evalSummary.metric,
      'OVERALL',
      String(evalSummary.num),
      formatScore(evalSummary.score),
      formatInterval(evalSummary.ci95),
      formatDelta(evalSummary.delta),
    ]);
  }
  return rows;
}

export const TABLE_HEAD = ['Model', 'Dataset', 'Metric', 'Subset', 'Num', 'Score', '95% CI', 'Δ'];

/** Num and the figures after it are right-aligned in report.md. */
export const TABLE_FIGURES = 4;

export function renderConsoleTable(summary: RunSummary): string {
  const table = new Table({ head: TABLE_HEAD, style: { head: [], border: [] } });
  table.push(...scoreRows(summary));
  return table.toString();
}

/** A markdown table whose last `figures` columns (2 unless told) are right-aligned. */
export function renderMarkdownTable(head: string[], rows: string[][], figures = 2): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${head.map(escape).join(' | ')} |`,
    `| ${head.map((_, i) => (i >= head.length - figures ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}
