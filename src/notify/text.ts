import { formatDelta, formatScore } from '../report/table.js';
import { gateFailed, type NoticeEval, type RunNotice } from './notice.js';

/** How one platform writes emphasis, code and plain text (each platform's markdown differs). */
export interface Markup {
  bold(text: string): string;
  code(text: string): string;
  text(text: string): string;
}

export const PLAIN: Markup = { bold: (text) => text, code: (text) => text, text: (text) => text };

/** Standard markdown, as DingTalk and WeCom render it. */
export const MARKDOWN: Markup = {
  bold: (text) => `**${text}**`,
  code: (text) => `\`${text.replaceAll('`', "'")}\``,
  text: (text) => text,
};

/** One line that says what happened: `evalrig · nightly: failed (exit 1)`. */
export function headline(notice: RunNotice): string {
  const what =
    notice.status !== 'ok'
      ? `${notice.status} (exit ${notice.exit_code})`
      : gateFailed(notice)
        ? 'gate failed'
        : 'ok';
  return `evalrig · ${notice.plan}${notice.kind === 'matrix' ? ' (matrix)' : ''}: ${what}`;
}

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const total = Math.round(seconds);
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  return hours > 0 ? `${hours}h ${minutes}m` : `${minutes}m ${total % 60}s`;
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function evalLine(evaluation: NoticeEval, markup: Markup): string {
  const name = evaluation.variant ? `${evaluation.variant}/${evaluation.name}` : evaluation.name;
  const result = evaluation.status === 'ok' ? formatScore(evaluation.score) : evaluation.status.toUpperCase();
  const errors = evaluation.errors > 0 ? `, ${count(evaluation.errors, 'error')}` : '';
  return `- ${markup.code(name)}: ${result} (n=${evaluation.num}${errors})`;
}

/** The body of a message, one line each, in the order people look for them. */
export function noticeLines(notice: RunNotice, markup: Markup): string[] {
  const vllm = notice.vllm_version ? ` · vLLM ${notice.vllm_version}` : '';
  const lines = [
    `${markup.bold('Model')}: ${markup.code(notice.model)}${vllm} · took ${duration(notice.duration_s)}`,
  ];
  if (notice.error) lines.push(`${markup.bold('Error')}: ${markup.code(notice.error)}`);
  if (notice.evals.length > 0) {
    lines.push(markup.bold('Scores'), ...notice.evals.map((evaluation) => evalLine(evaluation, markup)));
  }
  if (notice.gates && notice.gates.length > 0) {
    lines.push(
      markup.bold('Gates'),
      ...notice.gates.map(
        (gate) =>
          `- ${gate.passed ? 'pass' : markup.bold('FAIL')} ${markup.code(gate.name)}: ${markup.text(gate.detail)}`,
      ),
    );
  }
  if (notice.deltas && notice.deltas.length > 0) {
    lines.push(
      markup.bold('Changes'),
      ...notice.deltas.map(
        (delta) =>
          `- ${markup.code(delta.name)}: ${formatScore(delta.previous)} → ${formatScore(delta.current)} (${formatDelta(delta.current - delta.previous)})`,
      ),
    );
  }
  lines.push(`${markup.bold('Report')}: ${markup.code(notice.report)}`);
  return lines;
}

/** Bytes kept free for the line that says how many lines were left out. */
const NOTE_BYTES = 40;

/**
 * The lines within `maxBytes` (UTF-8), each line costing its own bytes and `separatorBytes` (the newline, or the
 * JSON around a paragraph): platforms refuse a message over their limit rather than cut it. When they do not all
 * fit, whole lines from the top, a line that says how many were left out, and the last line (the report path,
 * which says where to read the rest).
 */
export function clipLines(lines: readonly string[], maxBytes: number, separatorBytes = 1): string[] {
  const sizes = lines.map((line) => Buffer.byteLength(line) + separatorBytes);
  const last = lines.at(-1);
  if (last === undefined || sizes.reduce((sum, size) => sum + size, 0) <= maxBytes) return [...lines];
  let bytes = NOTE_BYTES + 2 * separatorBytes + Buffer.byteLength(last);
  let kept = 0;
  while (kept < lines.length - 1 && bytes + (sizes[kept] ?? 0) <= maxBytes) bytes += sizes[kept++] ?? 0;
  return [...lines.slice(0, kept), `… ${count(lines.length - 1 - kept, 'more line')}`, last];
}
