import { backendAgreements, renderBackendAgreement } from './backend-agreement.js';
import { continuation, resumeNotes } from './continuation.js';
import { readPredictions } from './run-folder.js';
import { renderMarkdownTable, scoreRows, TABLE_FIGURES, TABLE_HEAD } from './table.js';
import { verdictOf } from './verdict.js';
import type { RunSummary } from '../run/summary.js';

function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${Math.round(value)} ms`;
}

/** report.md: what a person reads first after a nightly run. */
export function renderMarkdownReport(summary: RunSummary): string {
  const attempt = summary.attempt > 1 ? `attempt ${summary.attempt} (resumed) ` : '';
  const verdict = verdictOf(summary);
  const gateFailed = summary.gates?.some((gate) => !gate.passed) ?? false;
  const lines = [
    `# ${summary.plan}: ${summary.status.toUpperCase()}${gateFailed ? ', GATE FAILED' : ''}`,
    '',
    `- model: \`${summary.model}\`, vLLM ${summary.vllm_version ?? 'unknown'}`,
    `- ${attempt}started ${summary.started_at}, took ${summary.duration_s.toFixed(1)} s, exit code ${summary.exit_code}`,
  ];
  if (summary.teardown) lines.push(`- teardown: ${summary.teardown.detail}`);
  const onwards = continuation(summary, (command) => `\`${command}\``);
  if (onwards) lines.push(`- ${onwards}`, ...resumeNotes(summary).map((note) => `  - ${note}`));
  if (verdict) {
    lines.push('', '## Verdict', '', `**${verdict.headline}**`, '');
    for (const check of verdict.checks)
      lines.push(`- **${check.outcome}** \`${check.name}\`: ${check.detail}`);
  }
  if (summary.error) lines.push('', '## Error', '', '```', summary.error, '```');
  lines.push('', '## Scores', '', renderMarkdownTable(TABLE_HEAD, scoreRows(summary), TABLE_FIGURES));
  const details = summary.evals.filter((e) => e.result);
  if (details.length > 0) {
    lines.push('', '## Requests', '');
    const rows = details.map((e) => {
      const r = e.result!;
      return [
        e.name,
        String(r.num),
        String(r.truncated),
        String(r.errors),
        ms(r.latency_ms?.p50),
        ms(r.latency_ms?.p90),
        ms(r.latency_ms?.p99),
        String(r.usage.completion_tokens),
        `${(r.wall_ms / 1000).toFixed(1)} s`,
      ];
    });
    lines.push(
      renderMarkdownTable(
        ['Eval', 'Num', 'Truncated', 'Errors', 'p50', 'p90', 'p99', 'Output tokens', 'Wall'],
        rows,
      ),
    );
  }
  for (const e of details) {
    const repeats = e.result?.repeats;
    if (!repeats) continue;
    const passes = repeats.per_repeat.map((r) => r.accuracy.toFixed(4)).join(', ');
    lines.push(
      '',
      `${e.name}: ${repeats.k} repeats, mean accuracy ${repeats.mean.toFixed(4)} ± ${repeats.std.toFixed(4)} (passes: ${passes})`,
    );
  }
  const agreements = backendAgreements(summary, (name) => readPredictions(summary.run_dir, name));
  lines.push(...renderBackendAgreement(agreements));
  return lines.join('\n') + '\n';
}
