import type { ChartConfiguration } from 'chart.js';
import type { PredictionRecord } from '../../eval/types.js';
import { histogram, type Histogram } from '../histogram.js';
import { escapeHtml } from './embed.js';
import { BASE_OPTIONS, chartCanvas, COLOURS, section, type Section } from './section.js';

const GROUPS = ['correct', 'wrong'] as const;

/** What each histogram measures, read from one prediction record (null: the record has no such figure). */
const MEASURES: {
  key: string;
  title: string;
  unit: string;
  value: (record: PredictionRecord) => number | null;
}[] = [
  {
    key: 'latency',
    title: 'latency',
    unit: 'ms',
    value: (record) => (record.error === null ? record.latency_ms : null),
  },
  { key: 'ttft', title: 'time to first token', unit: 'ms', value: (record) => record.ttft_ms },
  {
    key: 'tokens',
    title: 'output tokens',
    unit: 'tokens',
    value: (record) => record.usage?.completion_tokens ?? null,
  },
];

function histogramChart(data: Histogram, unit: string): ChartConfiguration {
  const labels = data.edges.slice(0, -1).map((edge, index) => `${edge}–${data.edges[index + 1]}`);
  return {
    type: 'bar',
    data: {
      labels,
      datasets: data.series.map((series) => ({
        label: series.name,
        data: series.counts,
        backgroundColor: series.name === 'correct' ? COLOURS.correct : COLOURS.wrong,
      })),
    },
    options: {
      ...BASE_OPTIONS,
      scales: {
        x: { stacked: true, title: { display: true, text: unit } },
        y: { stacked: true, title: { display: true, text: 'samples' }, ticks: { precision: 0 } },
      },
    },
  };
}

/**
 * Histograms of latency, time to first token and output tokens per evaluation, each bar split into correct and
 * wrong answers (long answers that went wrong show up at once). Null without predictions.
 */
export function distributionsSection(
  evals: readonly { name: string; records: readonly PredictionRecord[] }[],
): Section | null {
  const charts: Section['charts'] = {};
  const blocks: string[] = [];
  for (const [index, { name, records }] of evals.entries()) {
    const canvases: string[] = [];
    for (const measure of MEASURES) {
      const points = records.flatMap((record) => {
        const value = measure.value(record);
        return value === null ? [] : [{ value, group: record.correct ? 'correct' : 'wrong' }];
      });
      const data = histogram(points, GROUPS);
      if (!data) continue;
      const id = `${measure.key}-${index}`;
      charts[id] = histogramChart(data, measure.unit);
      canvases.push(
        `<figure><figcaption>${measure.title}</figcaption>${chartCanvas(id, `${name}: ${measure.title}`)}</figure>`,
      );
    }
    if (canvases.length > 0)
      blocks.push(`<h3>${escapeHtml(name)}</h3><div class="charts">${canvases.join('\n')}</div>`);
  }
  if (blocks.length === 0) return null;
  return { html: section('distributions', 'Latency and tokens', blocks.join('\n')), charts };
}
