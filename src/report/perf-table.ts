import Table from 'cli-table3';
import type { LatencyStats } from '../eval/perf/types.js';
import type { RunSummary } from '../run/summary.js';

const PERF_HEAD = [
  'Eval',
  'Concurrency',
  'OK/Num',
  'Req/s',
  'Out tok/s',
  'TTFT p50/p99 ms',
  'TPOT p50 ms',
  'ITL p50/p99 ms',
  'E2EL p50/p99 ms',
];

function ms(value: number | null): string {
  return value === null ? '-' : value.toFixed(1);
}

function medianAndP99(stats: LatencyStats): string {
  return `${ms(stats.median)} / ${ms(stats.p99)}`;
}

/** One row per concurrency level of each perf evaluation, as `vllm bench serve` prints its result; '' without any. */
export function renderPerfTable(summary: RunSummary): string {
  const rows = summary.evals.flatMap(({ name, perf }) =>
    (perf?.levels ?? []).map((level) => [
      name,
      String(level.max_concurrency),
      `${level.completed}/${level.num_prompts}`,
      level.request_throughput.toFixed(2),
      level.output_throughput.toFixed(1),
      medianAndP99(level.ttft_ms),
      ms(level.tpot_ms.median),
      medianAndP99(level.itl_ms),
      medianAndP99(level.e2el_ms),
    ]),
  );
  if (rows.length === 0) return '';
  const table = new Table({ head: PERF_HEAD, style: { head: [], border: [] } });
  table.push(...rows);
  return table.toString();
}
