import { countByStatus } from './checks/run-checks.js';
import type { CheckResult, CheckStatus } from './checks/types.js';

const SYMBOLS: Record<CheckStatus, string> = { ok: '✓', warning: '!', error: '✗', skipped: '–' };
// ANSI: green, yellow, red, dim.
const COLORS: Record<CheckStatus, string> = { ok: '32', warning: '33', error: '31', skipped: '2' };

export interface RenderOptions {
  /** ANSI colours; the caller decides (a TTY without NO_COLOR). */
  color?: boolean;
}

function paint(text: string, status: CheckStatus, color: boolean): string {
  return color ? `\u001b[${COLORS[status]}m${text}\u001b[0m` : text;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** One line under the table: what the verdict means for running a plan. */
export function summarizeChecks(results: readonly CheckResult[]): string {
  const counts = countByStatus(results);
  if (counts.error > 0) {
    const warnings = counts.warning > 0 ? ` and ${plural(counts.warning, 'warning')}` : '';
    return `${plural(counts.error, 'error')}${warnings}: fix the errors before running a plan.`;
  }
  if (counts.warning > 0)
    return `No errors, ${plural(counts.warning, 'warning')}: a plan can run; read the warnings.`;
  return 'All checks passed.';
}

/**
 * The checks as an aligned table for a terminal: symbol, title, detail, and the fix on the line below for
 * anything that is not fine.
 */
export function renderChecksTable(results: readonly CheckResult[], options: RenderOptions = {}): string {
  const color = options.color ?? false;
  const width = Math.max(0, ...results.map((result) => result.title.length));
  const indent = ' '.repeat(2 + 1 + 2 + width + 2);
  const lines = results.flatMap((result) => {
    const row = `  ${paint(SYMBOLS[result.status], result.status, color)}  ${result.title.padEnd(width)}  ${result.detail}`;
    return result.fix !== null && result.status !== 'ok' ? [row, `${indent}fix: ${result.fix}`] : [row];
  });
  return [...lines, '', summarizeChecks(results)].join('\n');
}

/** For scripts: `ok` is false when any check failed. */
export function renderChecksJson(results: readonly CheckResult[]): string {
  const counts = countByStatus(results);
  return JSON.stringify({ ok: counts.error === 0, counts, checks: results }, null, 2);
}
