import { renderMarkdownTable, scoreRows, TABLE_HEAD } from './table.js';
import type { RunSummary } from './summary.js';

function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${Math.round(value)} ms`;
}

/** report.md: what a person reads first after a nightly run. */
export function renderMarkdownReport(summary: RunSummary): string {
  const lines = [
    `# ${summary.plan}: ${summary.status.toUpperCase()}`,
    '',
    `- model: \`${summary.model}\`, vLLM ${summary.vllm_version ?? 'unknown'}`,
    `- started ${summary.started_at}, took ${summary.duration_s.toFixed(1)} s, exit code ${summary.exit_code}`,
  ];
  if (summary.teardown) lines.push(`- teardown: ${summary.teardown.detail}`);
  if (summary.error) lines.push('', '## Error', '', '```', summary.error, '```');
  lines.push('', '## Scores', '', renderMarkdownTable(TABLE_HEAD, scoreRows(summary)));
  const details = summary.evals.filter((e) => e.result);
  if (details.length > 0) {
    lines.push('', '## Requests', '');
    const rows = details.map((e) => {
      const r = e.result!;
      return [e.name, String(r.num), String(r.truncated), String(r.errors), ms(r.latency_ms?.p50), ms(r.latency_ms?.p90), ms(r.latency_ms?.p99), String(r.usage.completion_tokens), `${(r.wall_ms / 1000).toFixed(1)} s`];
    });
    lines.push(renderMarkdownTable(['Eval', 'Num', 'Truncated', 'Errors', 'p50', 'p90', 'p99', 'Output tokens', 'Wall'], rows));
  }
  return lines.join('\n') + '\n';
}
