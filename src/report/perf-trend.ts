import Table from 'cli-table3';
import type { RunRecord } from '../history/record.js';

/**
 * A perf evaluation's figures run by run, for `evalrig history`: output throughput and TTFT p99 at each
 * concurrency level, so that a slower vLLM or a changed setting shows as a trend. Empty when no run of the
 * evaluation recorded perf figures.
 */
export function perfTrend(
  runs: readonly RunRecord[],
  evalName: string,
  runLabel: (run: RunRecord) => string,
): string {
  const rows = runs.flatMap((run) => {
    const perf = run.evals.find((e) => e.name === evalName)?.perf ?? [];
    return perf.length > 0 ? [{ run, perf }] : [];
  });
  if (rows.length === 0) return '';
  const levels = [...new Set(rows.flatMap(({ perf }) => perf.map((level) => level.concurrency)))].sort(
    (a, b) => a - b,
  );
  const shown = (value: number | null | undefined) =>
    value === null || value === undefined ? '-' : value.toFixed(1);
  const table = new Table({
    head: ['Run', ...levels.flatMap((c) => [`c=${c} out tok/s`, `c=${c} TTFT p99 ms`])],
    style: { head: [], border: [] },
  });
  for (const { run, perf } of rows) {
    const figures = (c: number) => perf.find((level) => level.concurrency === c)?.figures;
    table.push([
      runLabel(run),
      ...levels.flatMap((c) => [shown(figures(c)?.output_throughput), shown(figures(c)?.['ttft_ms.p99'])]),
    ]);
  }
  return table.toString();
}
