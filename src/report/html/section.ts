import type { ChartConfiguration, ChartTypeRegistry } from 'chart.js';
import { escapeHtml } from './embed.js';

/** One part of report.html: its markup, and the Chart.js configurations of the canvases it holds (by id). */
export interface Section {
  html: string;
  charts: Record<string, ChartConfiguration<keyof ChartTypeRegistry>>;
}

/** Colours shared by the charts and the style sheet. */
export const COLOURS = {
  correct: '#2e7d32',
  wrong: '#c62828',
  accent: '#1565c0',
  interval: 'rgba(21, 101, 192, 0.25)',
  compared: '#9e9e9e',
} as const;

/** A canvas the page's chart script fills from the chart configuration with the same id. */
export function chartCanvas(id: string, label: string, tall = false): string {
  return (
    `<div class="chart${tall ? ' tall' : ''}">` +
    `<canvas id="${escapeHtml(id)}" data-chart="${escapeHtml(id)}" role="img" aria-label="${escapeHtml(label)}"></canvas>` +
    '</div>'
  );
}

export function section(id: string, title: string, body: string): string {
  return `<section id="${escapeHtml(id)}"><h2>${escapeHtml(title)}</h2>\n${body}\n</section>`;
}

/** An HTML table; cells are text, escaped here. `numeric` columns are right-aligned. */
export function table(head: string[], rows: string[][], numeric: ReadonlySet<number> = new Set()): string {
  const cell = (tag: 'th' | 'td', text: string, index: number) =>
    `<${tag}${numeric.has(index) ? ' class="num"' : ''}>${escapeHtml(text)}</${tag}>`;
  const header = `<tr>${head.map((text, index) => cell('th', text, index)).join('')}</tr>`;
  const body = rows.map((row) => `<tr>${row.map((text, index) => cell('td', text, index)).join('')}</tr>`);
  return `<table>\n<thead>${header}</thead>\n<tbody>\n${body.join('\n')}\n</tbody>\n</table>`;
}

/** Shared Chart.js options: no animation (the page is read, not watched, and screenshots come out whole). */
export const BASE_OPTIONS = { animation: false, responsive: true, maintainAspectRatio: false } as const;
