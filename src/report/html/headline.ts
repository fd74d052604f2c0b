import type { RunSummary } from '../../run/summary.js';
import { continuation, resumeNotes } from '../continuation.js';
import { verdictOf } from '../verdict.js';
import { escapeHtml } from './embed.js';
import { table, type Section } from './section.js';

function facts(rows: [string, string][]): string {
  const items = rows.map(([term, value]) => `<dt>${escapeHtml(term)}</dt><dd>${escapeHtml(value)}</dd>`);
  return `<dl class="facts">${items.join('')}</dl>`;
}

/** What ran and how it ended: the first thing a person reads. */
export function headlineSection(summary: RunSummary): Section {
  const rows: [string, string][] = [
    ['model', summary.model],
    ['vLLM', summary.vllm_version ?? 'unknown'],
    ['plan', summary.plan],
    ['started', summary.started_at],
    ['duration', `${summary.duration_s.toFixed(1)} s`],
    ['exit code', String(summary.exit_code)],
  ];
  if (summary.attempt > 1) rows.push(['attempt', `${summary.attempt} (resumed)`]);
  if (summary.teardown) rows.push(['teardown', summary.teardown.detail]);
  if (summary.compared_with)
    rows.push(['compared with', `${summary.compared_with.kind} run ${summary.compared_with.run_dir}`]);
  const onwards = continuation(summary);
  if (onwards) rows.push(['to continue', onwards]);
  for (const note of resumeNotes(summary)) rows.push(['on resume', note]);
  const parts = [
    `<h1>${escapeHtml(summary.plan)} <span class="status status-${escapeHtml(summary.status)}">${escapeHtml(summary.status.toUpperCase())}</span></h1>`,
    facts(rows),
  ];
  if (summary.error) parts.push(`<pre class="error">${escapeHtml(summary.error)}</pre>`);
  const verdict = verdictOf(summary);
  if (verdict) {
    parts.push(
      `<h3>Verdict: ${escapeHtml(verdict.headline)}</h3>`,
      table(
        ['Gate', 'Outcome', 'What it saw'],
        verdict.checks.map((check) => [check.name, check.outcome, check.detail]),
      ),
    );
  }
  return { html: `<header id="headline">\n${parts.join('\n')}\n</header>`, charts: {} };
}
