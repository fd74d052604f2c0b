import Table from 'cli-table3';
import type { RunSummary } from '../run/summary.js';

/** Scores as EvalScope prints them: up to four decimals, trailing zeros dropped (0.7917, 0.75, 1.0). */
export function formatScore(value: number | null | undefined): string {
  return value === null || value === undefined
    ? '-'
    : value.toFixed(4).replace(/0+$/, '').replace(/\.$/, '.0');
}

/** Rows like EvalScope's summary table: one per subset, then OVERALL (the micro mean). */
export function scoreRows(summary: RunSummary): string[][] {
  const rows: string[][] = [];
  for (const evalSummary of summary.evals) {
    const dataset = `${evalSummary.dataset}${evalSummary.name !== evalSummary.dataset ? ` (${evalSummary.name})` : ''}`;
    if (evalSummary.status !== 'ok') {
      rows.push([
        summary.model,
        dataset,
        evalSummary.metric,
        evalSummary.status.toUpperCase(),
        String(evalSummary.num),
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
      ]);
    }
    rows.push([
      summary.model,
      dataset,
      evalSummary.metric,
      'OVERALL',
      String(evalSummary.num),
      formatScore(evalSummary.score),
    ]);
  }
  return rows;
}

export const TABLE_HEAD = ['Model', 'Dataset', 'Metric', 'Subset', 'Num', 'Score'];

export function renderConsoleTable(summary: RunSummary): string {
  const table = new Table({ head: TABLE_HEAD, style: { head: [], border: [] } });
  table.push(...scoreRows(summary));
  return table.toString();
}

export function renderMarkdownTable(head: string[], rows: string[][]): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  return [
    `| ${head.map(escape).join(' | ')} |`,
    `| ${head.map((_, i) => (i >= head.length - 2 ? '---:' : '---')).join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}
