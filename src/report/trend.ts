import Table from 'cli-table3';
import sparkly from 'sparkly';
import { ExitCode } from '../errors.js';
import { topRunFolder } from '../history/baseline-file.js';
import type { PlanCell, RunHistory } from '../history/database.js';
import { scoreIn, type RunRecord } from '../history/record.js';
import { perfTrend } from './perf-trend.js';
import { formatDelta, formatInterval, formatScore } from './table.js';

/** What `evalrig history` shows: a plan's runs, or every plan's when none is named. */
export interface HistoryQuery {
  plan?: string;
  cell?: string;
  evalName?: string;
  /** The newest this many runs of each cell. */
  limit: number;
  /** A sparkline per evaluation (a terminal shows it; a file or a pipe gets the table only). */
  sparkline: boolean;
}

/** Local time, as run folder names are written: `2026-12-01 10:15:00`. */
function localTime(iso: string): string {
  const date = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

function statusOf(run: RunRecord): string {
  if (run.status !== 'ok') return `${run.status} (exit ${run.exit_code})`;
  return run.exit_code === ExitCode.gateFailed ? 'gate failed (exit 3)' : 'ok';
}

function table(head: string[], rows: string[][]): string {
  const rendered = new Table({ head, style: { head: [], border: [] } });
  rendered.push(...rows);
  return rendered.toString();
}

/** One evaluation's runs: date, run, model, score with its interval, the change from the row before, status. */
function evalTrend(runs: readonly RunRecord[], evalName: string, baselineDir: string | undefined): string {
  let before: number | null = null;
  const rows = runs
    .filter((run) => run.evals.some((e) => e.name === evalName))
    .map((run) => {
      const score = scoreIn(run, evalName);
      const value = score?.score ?? null;
      const delta = value === null || before === null ? null : value - before;
      if (value !== null) before = value;
      const pinned = run.run_dir === baselineDir ? ', baseline' : '';
      return [
        localTime(run.started_at),
        topRunFolder(run.run_dir, run.cell) + (run.cell ? `/${run.cell}` : ''),
        run.model,
        formatScore(value),
        formatInterval(score?.ci95),
        formatDelta(delta),
        statusOf(run) + pinned,
      ];
    });
  return table(['Date', 'Run', 'Model', 'Score', '95% CI', 'Δ', 'Status'], rows);
}

function sparklineOf(runs: readonly RunRecord[], evalName: string): string {
  const scores = runs
    .filter((run) => run.evals.some((e) => e.name === evalName))
    .map((run) => scoreIn(run, evalName)?.score ?? null);
  const known = scores.filter((score): score is number => score !== null);
  if (known.length < 2) return '';
  // A failed run is a gap in the line, not a zero.
  const line = sparkly(scores.map((score) => score ?? ''));
  return `${evalName}  ${line}  ${formatScore(known[0])} → ${formatScore(known.at(-1))} over ${scores.length} runs`;
}

function cellTrend(history: RunHistory, plan: string, cell: string, query: HistoryQuery): string[] {
  const runs = history.runs(plan, cell, query.limit);
  const baselineDir = history.baseline(plan, cell)?.run_dir;
  const evalNames = [...new Set(runs.flatMap((run) => run.evals.map((e) => e.name)))].filter(
    (name) => query.evalName === undefined || name === query.evalName,
  );
  const title = `${plan}${cell ? ` cell ${cell}` : ''}`;
  if (evalNames.length === 0)
    return [`${title}: no runs${query.evalName ? ` of evaluation ${query.evalName}` : ''} recorded`];
  return evalNames.flatMap((evalName) => {
    const spark = query.sparkline ? sparklineOf(runs, evalName) : '';
    const perf = perfTrend(runs, evalName, (run) => topRunFolder(run.run_dir, run.cell));
    return [
      `${title}, ${evalName}:`,
      evalTrend(runs, evalName, baselineDir),
      ...(spark ? [spark] : []),
      ...(perf ? [perf] : []),
      '',
    ];
  });
}

function cellsTable(history: RunHistory, cells: readonly PlanCell[]): string {
  const rows = cells.map((cell) => {
    const baseline = history.baseline(cell.plan, cell.cell);
    return [
      cell.plan,
      cell.cell || '-',
      String(cell.runs),
      localTime(cell.last_started_at),
      baseline ? topRunFolder(baseline.run_dir, baseline.cell) : '-',
    ];
  });
  return table(['Plan', 'Cell', 'Runs', 'Newest run', 'Baseline'], rows);
}

/** The text of `evalrig history`: the plans recorded, or a plan's trend per cell and evaluation. */
export function renderHistory(history: RunHistory, query: HistoryQuery): string {
  const cells = history.cells(query.plan).filter((c) => query.cell === undefined || c.cell === query.cell);
  if (cells.length === 0)
    return query.plan
      ? `No runs of plan ${query.plan}${query.cell ? ` cell ${query.cell}` : ''} in ${history.file}.`
      : `No runs in ${history.file} yet.`;
  if (query.plan === undefined)
    return `${cellsTable(history, cells)}\n\n\`evalrig history <plan>\` shows a plan's scores run by run.`;
  return cells
    .flatMap((cell) => cellTrend(history, cell.plan, cell.cell, query))
    .join('\n')
    .trimEnd();
}

/** `evalrig history --json`: each cell's runs as the history keeps them, newest last. */
export function historyJson(history: RunHistory, query: Omit<HistoryQuery, 'sparkline'>): unknown {
  const cells = history.cells(query.plan).filter((c) => query.cell === undefined || c.cell === query.cell);
  return {
    history: history.file,
    cells: cells.map(({ plan, cell }) => ({
      plan,
      cell,
      baseline: history.baseline(plan, cell)?.run_dir ?? null,
      runs: history.runs(plan, cell, query.limit).map((run) => ({
        ...run,
        evals: run.evals.filter((e) => query.evalName === undefined || e.name === query.evalName),
      })),
    })),
  };
}
