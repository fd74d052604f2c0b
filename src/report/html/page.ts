import { evalrigVersion } from '../../util/evalrig-version.js';
import { chartJsBundle, clientAsset, escapeHtml, inlineScript, inlineStyle, jsonScript } from './embed.js';
import type { ExplorerData } from './explorer.js';
import type { Section } from './section.js';

/**
 * The policy forbids every fetch: the page must open from disk on a machine without network, and a page that
 * tried to load something would fail the same way there as here.
 */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:";

export interface PageParts {
  title: string;
  /** In page order; null for a section the run has nothing for. */
  sections: (Section | null)[];
  /** The sample explorer's data, for a page with an explorer section. */
  explorer?: ExplorerData;
}

/** One self-contained HTML document: style, Chart.js, the page's scripts and its data, all inline. */
export function renderPage({ title, sections, explorer }: PageParts): string {
  const present = sections.filter((part) => part !== null);
  const charts = Object.assign({}, ...present.map((part) => part.charts)) as Record<string, unknown>;
  const scripts = [
    jsonScript('chart-data', charts),
    ...(explorer ? [jsonScript('explorer-data', explorer)] : []),
    inlineScript(chartJsBundle(), 'chart.js'),
    inlineScript(clientAsset('charts.js'), 'charts.js'),
    ...(explorer ? [inlineScript(clientAsset('explorer.js'), 'explorer.js')] : []),
  ];
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">`,
    `<title>${escapeHtml(title)}</title>`,
    inlineStyle(clientAsset('report.css'), 'report.css'),
    '</head>',
    '<body>',
    '<main>',
    ...present.map((part) => part.html),
    '</main>',
    `<footer>evalrig ${escapeHtml(evalrigVersion())}</footer>`,
    ...scripts,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
