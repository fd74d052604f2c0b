import type { ChartConfiguration } from 'chart.js';
import type { MatrixSummary, RunSummary } from '../../run/summary.js';
import { OVERALL } from '../../history/record.js';
import { comparisonRows } from '../matrix.js';
import { escapeHtml } from './embed.js';
import { renderPage } from './page.js';
import { BASE_OPTIONS, chartCanvas, section, table, type Section } from './section.js';

/** Distinct colours for up to eight variants, then repeated. */
const VARIANT_COLOURS = [
  '#1565c0',
  '#ef6c00',
  '#2e7d32',
  '#6a1b9a',
  '#c62828',
  '#00838f',
  '#5d4037',
  '#455a64',
];

function variantsSection(matrix: MatrixSummary): Section {
  const rows = matrix.variants.map(({ name, summary }) => {
    const link = `${encodeURIComponent(name)}/report.html`;
    return (
      `<tr><td><a href="${escapeHtml(link)}">${escapeHtml(name)}</a></td><td>${escapeHtml(summary.model)}</td>` +
      `<td>${escapeHtml(summary.status)}</td><td class="num">${summary.duration_s.toFixed(1)} s</td></tr>`
    );
  });
  const html = [
    `<header id="headline"><h1>${escapeHtml(matrix.plan)}: matrix <span class="status status-${escapeHtml(matrix.status)}">${escapeHtml(matrix.status.toUpperCase())}</span></h1>`,
    '<table><thead><tr><th>Variant</th><th>Model</th><th>Status</th><th class="num">Duration</th></tr></thead>',
    `<tbody>${rows.join('\n')}</tbody></table></header>`,
  ].join('\n');
  return { html, charts: {} };
}

/** Each variant's scores by `<eval> · <subset>` (OVERALL included), the chart's categories. */
function scoresByCategory(summary: RunSummary): Map<string, number> {
  const scores = new Map<string, number>();
  for (const evalSummary of summary.evals) {
    // An interrupted evaluation's figures cover part of its samples: not comparable with a finished one's.
    if (evalSummary.status !== 'ok') continue;
    for (const subset of evalSummary.subsets)
      scores.set(`${evalSummary.name} · ${subset.name}`, subset.score);
    if (evalSummary.score !== null) scores.set(`${evalSummary.name} · ${OVERALL}`, evalSummary.score);
  }
  return scores;
}

/** A group of bars per evaluation and subset, one bar per variant. */
function comparisonChart(matrix: MatrixSummary): ChartConfiguration {
  const byVariant = matrix.variants.map(({ name, summary }) => ({ name, scores: scoresByCategory(summary) }));
  const categories = [...new Set(byVariant.flatMap(({ scores }) => [...scores.keys()]))];
  const datasets = byVariant.map(({ name, scores }, index) => ({
    label: name,
    data: categories.map((category) => scores.get(category) ?? null),
    backgroundColor: VARIANT_COLOURS[index % VARIANT_COLOURS.length],
  }));
  return {
    type: 'bar',
    data: { labels: categories, datasets },
    options: { ...BASE_OPTIONS, scales: { y: { min: 0, max: 1, title: { display: true, text: 'score' } } } },
  };
}

/** report.html of a matrix folder: the variants side by side, each linking to its own report. */
export function renderMatrixHtml(matrix: MatrixSummary): string {
  const { head, rows } = comparisonRows(matrix);
  const numeric = new Set(head.map((_, index) => index).filter((index) => index >= 2));
  const scores: Section = {
    html: section(
      'scores',
      'Scores side by side',
      table(head, rows, numeric) + chartCanvas('matrix', 'scores per variant', true),
    ),
    charts: { matrix: comparisonChart(matrix) },
  };
  return renderPage({
    title: `${matrix.plan}: matrix ${matrix.status.toUpperCase()}`,
    sections: [variantsSection(matrix), scores],
  });
}
