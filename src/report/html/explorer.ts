import type { PredictionRecord } from '../../eval/types.js';
import { section, type Section } from './section.js';

/** One sample as the explorer shows it; long texts clipped (see textLimit). */
export interface ExplorerSample {
  id: string;
  subset: string;
  prompt: string;
  reasoning: string | null;
  content: string | null;
  extracted: string | null;
  gold: string;
  correct: boolean;
  truncated: boolean;
  error: string | null;
  /** The compared run's answer, when its verdict differs from this run's. */
  flipped: { extracted: string | null; correct: boolean } | null;
  latency_ms: number;
  tokens: number | null;
}

export interface ExplorerEval {
  name: string;
  subsets: string[];
  /** Whether the compared run's predictions of this evaluation were read (the "flipped" filter needs them). */
  compared: boolean;
  samples: ExplorerSample[];
}

export interface ExplorerData {
  pageSize: number;
  evals: ExplorerEval[];
}

/** Rows rendered at a time: the page builds only these, however many samples the run has. */
export const PAGE_SIZE = 50;

/**
 * The characters of text (prompt, reasoning, answer) the page may hold over all samples. A small run keeps its
 * texts whole (up to MAX_FIELD each); 10,000 samples get MIN_FIELD each, about 30 MB at worst (long Chinese texts), while
 * predictions.jsonl keeps every text whole.
 */
const TEXT_BUDGET = 9_000_000;
const MIN_FIELD = 300;
const MAX_FIELD = 4_000;

/** The longest text of one field of one sample, for a page of `samples` samples. */
export function textLimit(samples: number): number {
  return Math.min(MAX_FIELD, Math.max(MIN_FIELD, Math.floor(TEXT_BUDGET / Math.max(1, samples) / 3)));
}

/** A cut that does not split a surrogate pair (an emoji). */
function cutAt(text: string, index: number): number {
  const code = text.charCodeAt(index - 1);
  return code >= 0xd800 && code <= 0xdbff ? index - 1 : index;
}

/** A text longer than `limit`: its beginning and its end, with a note of what was left out between them. */
export function clip(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const head = cutAt(text, Math.floor(limit / 2));
  const tail = cutAt(text, text.length - Math.floor(limit / 2));
  return (
    `${text.slice(0, head)}\n… ${tail - head} characters left out (predictions.jsonl has the whole text) …\n` +
    text.slice(tail)
  );
}

function explorerSample(
  record: PredictionRecord,
  earlier: PredictionRecord | undefined,
  limit: number,
): ExplorerSample {
  const clipOrNull = (text: string | null) => (text === null ? null : clip(text, limit));
  return {
    id: record.id,
    subset: record.subset,
    prompt: clip(record.prompt, limit),
    reasoning: clipOrNull(record.reasoning),
    content: clipOrNull(record.content),
    extracted: record.extracted,
    gold: record.gold,
    correct: record.correct,
    truncated: record.truncated,
    error: clipOrNull(record.error),
    flipped:
      earlier && earlier.correct !== record.correct
        ? { extracted: earlier.extracted, correct: earlier.correct }
        : null,
    latency_ms: record.latency_ms,
    tokens: record.usage?.completion_tokens ?? null,
  };
}

/**
 * The explorer's data: every sample of every evaluation, and against `compared` (the compared run's predictions
 * by evaluation, when that run could be read) which of them flipped.
 */
export function explorerData(
  evals: readonly { name: string; records: readonly PredictionRecord[] }[],
  compared: ReadonlyMap<string, readonly PredictionRecord[]> | null,
): ExplorerData {
  const limit = textLimit(evals.reduce((total, e) => total + e.records.length, 0));
  return {
    pageSize: PAGE_SIZE,
    evals: evals.map(({ name, records }) => {
      const earlier = compared?.get(name) ?? [];
      const earlierById = new Map(earlier.map((record) => [record.id, record]));
      return {
        name,
        subsets: [...new Set(records.map((record) => record.subset))],
        compared: earlier.length > 0,
        samples: records.map((record) => explorerSample(record, earlierById.get(record.id), limit)),
      };
    }),
  };
}

export const OUTCOME_FILTERS = ['all', 'correct', 'wrong', 'truncated', 'error', 'flipped'] as const;

/** The explorer's controls and an empty list; the page's explorer script fills it a page at a time. */
export function explorerSection(): Section {
  const buttons = OUTCOME_FILTERS.map(
    (filter) =>
      `<button type="button" data-filter="${filter}" aria-pressed="${filter === 'all'}">${filter} <span class="count"></span></button>`,
  );
  const body = [
    '<div class="explorer-controls">',
    '<label>Evaluation <select id="explorer-eval"></select></label>',
    '<label>Subset <select id="explorer-subset"></select></label>',
    `<div class="filters" role="group" aria-label="outcome">${buttons.join('')}</div>`,
    '</div>',
    '<p id="explorer-status" aria-live="polite"></p>',
    '<ol id="explorer-list" class="samples"></ol>',
    '<nav class="pager"><button type="button" id="explorer-prev">previous</button>',
    '<span id="explorer-page"></span>',
    '<button type="button" id="explorer-next">next</button></nav>',
  ];
  return { html: section('explorer', 'Samples', body.join('\n')), charts: {} };
}
