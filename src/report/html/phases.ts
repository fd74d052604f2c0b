import type { ChartConfiguration } from 'chart.js';
import type { Manifest } from '../../run/manifest.js';
import { BASE_OPTIONS, chartCanvas, COLOURS, section, table, type Section } from './section.js';

/**
 * The run's phases on one time line (datasets, start, ready, each evaluation, stop), from manifest.json: where
 * the time went, the server's start-up above all. Null without phases.
 */
export function phasesSection(manifest: Manifest | null): Section | null {
  const phases = Object.entries(manifest?.phases ?? {})
    .map(([name, timing]) => ({
      name,
      start: Date.parse(timing.started_at),
      seconds: timing.duration_ms / 1000,
    }))
    .filter((phase) => Number.isFinite(phase.start))
    .sort((a, b) => a.start - b.start);
  const first = phases[0];
  if (!first) return null;
  const offsets = phases.map((phase) => ({ ...phase, from: (phase.start - first.start) / 1000 }));
  const chart: ChartConfiguration = {
    type: 'bar',
    data: {
      labels: offsets.map((phase) => phase.name),
      datasets: [
        {
          label: 'seconds since the first phase began',
          data: offsets.map((phase) => [phase.from, phase.from + phase.seconds]),
          backgroundColor: COLOURS.accent,
        },
      ],
    },
    options: {
      ...BASE_OPTIONS,
      indexAxis: 'y',
      plugins: { legend: { display: false } },
      scales: { x: { min: 0, title: { display: true, text: 'seconds' } } },
    },
  };
  const rows = offsets.map((phase) => [
    phase.name,
    `+${phase.from.toFixed(1)} s`,
    `${phase.seconds.toFixed(1)} s`,
  ]);
  const body =
    chartCanvas('phases', 'phase time line') + table(['Phase', 'Began', 'Took'], rows, new Set([1, 2]));
  return { html: section('phases', 'Phases', body), charts: { phases: chart } };
}
