import type { ChartConfiguration } from 'chart.js';
import type { TrendPoint } from '../../history/record.js';
import { BASE_OPTIONS, chartCanvas, COLOURS, section, type Section } from './section.js';

function trendChart(evalName: string, points: readonly TrendPoint[]): ChartConfiguration {
  return {
    type: 'line',
    data: {
      labels: points.map((point) => point.started_at.replace('T', ' ').slice(0, 19)),
      datasets: [
        {
          label: evalName,
          data: points.map((point) => point.score),
          borderColor: COLOURS.accent,
          backgroundColor: COLOURS.accent,
          // Runs without a score (failed) leave a gap rather than a drop to zero.
          spanGaps: false,
        },
      ],
    },
    options: { ...BASE_OPTIONS, scales: { y: { min: 0, max: 1, title: { display: true, text: 'score' } } } },
  };
}

/** Each evaluation's score over the plan's earlier runs, oldest first; null when no evaluation has two points. */
export function trendSection(trend: ReadonlyMap<string, readonly TrendPoint[]>): Section | null {
  const charts: Section['charts'] = {};
  const canvases: string[] = [];
  for (const [index, [evalName, points]] of [...trend].entries()) {
    if (points.length < 2) continue;
    const id = `trend-${index}`;
    charts[id] = trendChart(evalName, points);
    canvases.push(chartCanvas(id, `${evalName}: score over the plan's runs`));
  }
  if (canvases.length === 0) return null;
  return { html: section('trend', 'Trend', `<div class="charts">${canvases.join('\n')}</div>`), charts };
}
