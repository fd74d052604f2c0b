import type { ChartConfiguration } from 'chart.js';
import type { EvalSummary, RunSummary } from '../../run/summary.js';
import { OVERALL } from '../../history/record.js';
import type { Interval } from '../../history/stats.js';
import { formatDelta, formatScore } from '../table.js';
import { BASE_OPTIONS, chartCanvas, COLOURS, section, table, type Section } from './section.js';

/** One bar of the score chart and one row of the table: an evaluation's subset, or its OVERALL. */
interface ScoreLine {
  evalName: string;
  subset: string;
  num: number;
  score: number;
  ci95: Interval | null;
  delta: number | null;
}

function linesOf(evalSummary: EvalSummary, compared: EvalSummary | undefined): ScoreLine[] {
  const deltaFrom = (score: number, previous: number | null | undefined) =>
    previous === null || previous === undefined ? null : score - previous;
  const lines: ScoreLine[] = evalSummary.subsets.map((subset) => ({
    evalName: evalSummary.name,
    subset: subset.name,
    num: subset.num,
    score: subset.score,
    ci95: subset.ci95 ?? null,
    delta: deltaFrom(subset.score, compared?.subsets.find((s) => s.name === subset.name)?.score),
  }));
  if (evalSummary.score !== null) {
    lines.push({
      evalName: evalSummary.name,
      subset: OVERALL,
      num: evalSummary.num,
      score: evalSummary.score,
      ci95: evalSummary.ci95 ?? null,
      delta: evalSummary.delta ?? deltaFrom(evalSummary.score, compared?.score),
    });
  }
  return lines;
}

/**
 * A bar per score; its 95% interval as a narrow translucent bar over it, and the compared run's score as a grey
 * tick, so that each category keeps a single bar to read.
 */
function scoreChart(lines: ScoreLine[]): ChartConfiguration<'bar' | 'line'> {
  const datasets: ChartConfiguration<'bar' | 'line'>['data']['datasets'] = [
    {
      type: 'bar',
      label: 'score',
      data: lines.map((line) => line.score),
      backgroundColor: COLOURS.accent,
      order: 2,
    },
  ];
  if (lines.some((line) => line.ci95)) {
    datasets.push({
      type: 'bar',
      label: '95% interval',
      data: lines.map((line) => line.ci95),
      backgroundColor: COLOURS.interval,
      borderColor: COLOURS.accent,
      borderWidth: 1,
      grouped: false,
      barPercentage: 0.25,
      order: 1,
    });
  }
  if (lines.some((line) => line.delta !== null)) {
    datasets.push({
      type: 'line',
      label: 'compared run',
      data: lines.map((line) => (line.delta === null ? null : line.score - line.delta)),
      showLine: false,
      pointStyle: 'line',
      pointRadius: 24,
      pointBorderWidth: 3,
      borderColor: COLOURS.compared,
      backgroundColor: COLOURS.compared,
      order: 0,
    });
  }
  return {
    type: 'bar',
    data: { labels: lines.map((line) => `${line.evalName} · ${line.subset}`), datasets },
    options: {
      ...BASE_OPTIONS,
      scales: { y: { min: 0, max: 1, title: { display: true, text: 'score' } } },
    },
  };
}

/** Scores per evaluation and subset, with their 95% intervals and the change against the compared run. */
export function scoresSection(summary: RunSummary, compared: RunSummary | null): Section {
  const lines: ScoreLine[] = [];
  const rows: string[][] = [];
  for (const evalSummary of summary.evals) {
    if (evalSummary.status !== 'ok') {
      // An interrupted evaluation's figures are those of the samples answered until then: no interval, no chart.
      rows.push([
        evalSummary.name,
        evalSummary.status.toUpperCase(),
        String(evalSummary.num),
        formatScore(evalSummary.score),
        '-',
        '-',
      ]);
      continue;
    }
    const evalLines = linesOf(
      evalSummary,
      compared?.evals.find((e) => e.name === evalSummary.name),
    );
    lines.push(...evalLines);
    for (const line of evalLines) {
      rows.push([
        line.evalName,
        line.subset,
        String(line.num),
        formatScore(line.score),
        line.ci95 ? `${formatScore(line.ci95[0])} – ${formatScore(line.ci95[1])}` : '-',
        formatDelta(line.delta),
      ]);
    }
  }
  const body = [
    table(['Eval', 'Subset', 'Num', 'Score', '95% interval', 'Δ vs compared'], rows, new Set([2, 3, 4, 5])),
  ];
  const charts: Section['charts'] = {};
  if (lines.length > 0) {
    body.push(chartCanvas('scores', 'score per evaluation and subset'));
    charts.scores = scoreChart(lines);
  }
  return { html: section('scores', 'Scores', body.join('\n')), charts };
}
