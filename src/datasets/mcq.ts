import { UserError } from '../errors.js';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { z } from 'zod';
import {
  McqDatasetOptionsSchema,
  type McqDatasetOptions,
  type McqDatasetOptionsInput,
} from '../plan/dataset-options.js';
import type { DatasetProvenance, LoadedDataset, Sample } from './types.js';

/**
 * Generic multiple-choice loader: JSONL or CSV files in three layouts (IQuiz-like, EvalScope general_mcq,
 * or a field mapping). Parsing, validation and selection are pure functions; only `loadMcqDataset` reads files.
 */

/** A dataset that cannot be used as it is; the message is written for the person who runs evalrig. */
export class DatasetError extends UserError {
  constructor(message: string, exitCode?: number) {
    super(message, exitCode);
    this.name = 'DatasetError';
  }
}

/** How many problems an error message lists before it summarises the rest. */
const MAX_LISTED_PROBLEMS = 20;

/** `  - problem` lines, at most `max` of them, then `  … and N more`. */
export function formatDatasetProblems(problems: string[], max = MAX_LISTED_PROBLEMS): string {
  const listed = problems.slice(0, max).map((problem) => `  - ${problem}`);
  if (problems.length > max) listed.push(`  … and ${problems.length - max} more`);
  return listed.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
// Reading records out of JSONL / CSV text

/** One record as it sits in a file, before a layout gives it meaning; `ok: false` when it could not be read. */
export type RawRecord = { file: string; line: number } & (
  { ok: true; fields: Record<string, unknown> } | { ok: false; error: string }
);

export interface ParsedFile {
  records: RawRecord[];
  /** Problems with the file as a whole (bad CSV header, unterminated quote), as `file:line: why`. */
  problems: string[];
}

function stripByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One JSON object per non-blank line. */
export function parseJsonl(text: string, file: string): ParsedFile {
  const records: RawRecord[] = [];
  stripByteOrderMark(text)
    .split(/\r?\n/)
    .forEach((content, index) => {
      const line = index + 1;
      if (content.trim() === '') return;
      let value: unknown;
      try {
        value = JSON.parse(content);
      } catch (error) {
        records.push({ file, line, ok: false, error: `invalid JSON (${(error as Error).message})` });
        return;
      }
      if (isPlainObject(value)) records.push({ file, line, ok: true, fields: value });
      else records.push({ file, line, ok: false, error: 'expected a JSON object on this line' });
    });
  return { records, problems: [] };
}

export interface CsvRow {
  /** Line on which the row starts; a quoted field may carry it over several lines. */
  line: number;
  cells: string[];
}

/**
 * RFC 4180 CSV: comma separated, `"` quotes fields that hold commas, quotes (doubled) or line breaks.
 * Like Python's csv module it keeps a stray quote inside an unquoted field as text. Blank lines are skipped.
 */
export function parseCsvRows(text: string): { rows: CsvRow[]; unterminatedQuoteLine?: number } {
  const source = stripByteOrderMark(text);
  const rows: CsvRow[] = [];
  let cells: string[] = [];
  let cell = '';
  let rowHasContent = false;
  let inQuotes = false;
  let quoteStartLine = 0;
  let line = 1;
  let rowStartLine = 1;

  const endRow = (): void => {
    cells.push(cell);
    if (rowHasContent || cells.length > 1 || cell !== '') rows.push({ line: rowStartLine, cells });
    cells = [];
    cell = '';
    rowHasContent = false;
  };

  for (let i = 0; i < source.length; i++) {
    const ch = source[i] as string;
    if (inQuotes) {
      if (ch === '"') {
        if (source[i + 1] === '"') {
          cell += '"';
          i++;
        } else {
          inQuotes = false;
        }
        continue;
      }
      // A lone \r is a line break too; \r\n is counted once, at the \n.
      if (ch === '\n' || (ch === '\r' && source[i + 1] !== '\n')) line++;
      cell += ch;
      continue;
    }
    if (ch === '"' && cell === '') {
      inQuotes = true;
      rowHasContent = true;
      quoteStartLine = line;
    } else if (ch === ',') {
      cells.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && source[i + 1] === '\n') i++;
      endRow();
      line++;
      rowStartLine = line;
    } else {
      cell += ch;
    }
  }
  if (inQuotes) return { rows, unterminatedQuoteLine: quoteStartLine };
  if (cells.length > 0 || cell !== '' || rowHasContent) endRow();
  return { rows };
}

/** A CSV file with a header row; every other row becomes a record keyed by the header's column names. */
export function parseCsv(text: string, file: string): ParsedFile {
  const { rows, unterminatedQuoteLine } = parseCsvRows(text);
  const problems: string[] = [];
  if (unterminatedQuoteLine !== undefined) {
    problems.push(
      `${file}:${unterminatedQuoteLine}: a quoted field is never closed; the rest of the file was not read`,
    );
  }
  const [header, ...dataRows] = rows;
  if (!header) return { records: [], problems };

  const columns = header.cells.map((name) => name.trim());
  const duplicates = columns.filter((name, index) => columns.indexOf(name) !== index);
  if (duplicates.length > 0) {
    problems.push(
      `${file}:${header.line}: the header repeats column ${[...new Set(duplicates)].map((d) => `"${d}"`).join(', ')}`,
    );
    return { records: [], problems };
  }

  const records = dataRows.map((row): RawRecord => {
    if (row.cells.length !== columns.length) {
      return {
        file,
        line: row.line,
        ok: false,
        error: `invalid CSV row: ${row.cells.length} fields, but the header has ${columns.length} (an unquoted comma or line break?)`,
      };
    }
    const fields = Object.fromEntries(columns.map((name, index) => [name, row.cells[index]]));
    return { file, line: row.line, ok: true, fields };
  });
  return { records, problems };
}

// ---------------------------------------------------------------------------------------------------------
// Turning a record into a question

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function letterAt(index: number): string {
  return LETTERS[index] ?? `#${index}`;
}

/**
 * Removes a letter label in front of an option: `(A)`, `（A）`, `A.`, `A．`, `A)`, `A）`, `A、`, in either case.
 * Only the label of the option's own position is removed, so text that merely starts with a letter survives.
 */
export function stripOptionPrefix(text: string, letter: string): string {
  const label = new RegExp(`^\\s*(?:[(（]\\s*${letter}\\s*[)）]|${letter}\\s*[.．)）、])\\s*`, 'i');
  return text.replace(label, '');
}

export type GoldResult = { ok: true; index: number } | { ok: false; error: string };

/**
 * Reads a gold answer. Accepted: a letter in either case, optionally as `(B)`, `（B）`, `B.`, `B)`, `B、`;
 * or an integer index (a JSON number or a string of digits) counted from `indexBase` (0: 0 is A; 1: 1 is A).
 */
export function parseGoldAnswer(value: unknown, optionCount: number, indexBase: 0 | 1 = 0): GoldResult {
  let index: number;
  let shown: string;
  if (value === undefined || value === null) return { ok: false, error: 'gold answer is missing' };
  if (Array.isArray(value)) {
    return { ok: false, error: 'several gold answers; only single-answer questions are supported' };
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return { ok: false, error: `gold answer ${value} is not an integer index` };
    index = value - indexBase;
    shown = String(value);
  } else if (typeof value === 'string') {
    shown = value.trim();
    if (shown === '') return { ok: false, error: 'gold answer is empty' };
    const letter =
      /^[(（]\s*([A-Za-z])\s*[)）]$/.exec(shown)?.[1] ?? /^([A-Za-z])\s*[.．)）、]?$/.exec(shown)?.[1];
    if (/^\d+$/.test(shown)) index = Number(shown) - indexBase;
    else if (letter) index = LETTERS.indexOf(letter.toUpperCase());
    else return { ok: false, error: `gold answer "${shown}" is neither a letter nor an index` };
  } else {
    return { ok: false, error: `gold answer is a ${typeof value}, not a letter or an index` };
  }
  if (index < 0 || index >= optionCount) {
    return {
      ok: false,
      error: `gold answer ${shown} is not among the ${optionCount} options (A–${letterAt(optionCount - 1)})`,
    };
  }
  return { ok: true, index };
}

export type QuestionResult =
  | {
      ok: true;
      question: string;
      choices: string[];
      answer: string;
      recordId?: string;
      meta: Record<string, unknown>;
    }
  | { ok: false; error: string };

type OptionValues = { ok: true; values: unknown[]; fields: string[] } | { ok: false; error: string };

function isBlank(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.trim() === '');
}

/** Options spread over columns (A, B, C, …): trailing blank ones are dropped (rows with fewer options), gaps are errors. */
function optionsFromColumns(fields: Record<string, unknown>, columns: string[]): OptionValues {
  let count = columns.length;
  while (count > 0 && isBlank(fields[columns[count - 1] as string])) count--;
  const gap = columns.slice(0, count).findIndex((column) => isBlank(fields[column]));
  if (gap >= 0) {
    return {
      ok: false,
      error: `option ${letterAt(gap)} (field "${columns[gap]}") is empty but a later option is not`,
    };
  }
  return { ok: true, values: columns.slice(0, count).map((column) => fields[column]), fields: columns };
}

/** general_mcq names its option columns A, B, C, …; they must run from A without a gap. */
function generalMcqOptionColumns(
  fields: Record<string, unknown>,
): { ok: true; columns: string[] } | { ok: false; error: string } {
  const present = Object.keys(fields)
    .filter((key) => /^[A-Z]$/.test(key))
    .sort();
  const missing = present.findIndex((key, index) => key !== LETTERS[index]);
  if (missing >= 0) {
    return {
      ok: false,
      error: `option column ${LETTERS[missing]} is missing but ${present[missing]} is there`,
    };
  }
  return { ok: true, columns: present };
}

function extractOptions(fields: Record<string, unknown>, options: McqDatasetOptions): OptionValues {
  switch (options.layout) {
    case 'iquiz': {
      const choices = fields['choices'];
      if (choices === undefined) return { ok: false, error: 'field "choices" is missing' };
      if (!Array.isArray(choices)) return { ok: false, error: 'field "choices" is not a list' };
      return { ok: true, values: choices, fields: ['choices'] };
    }
    case 'general_mcq': {
      const columns = generalMcqOptionColumns(fields);
      return columns.ok ? optionsFromColumns(fields, columns.columns) : columns;
    }
    case 'mapped': {
      const source = options.fields?.options;
      if (source === undefined) return { ok: false, error: 'layout mapped needs fields.options' };
      if (Array.isArray(source)) return optionsFromColumns(fields, source);
      const values = fields[source];
      if (values === undefined) return { ok: false, error: `field "${source}" (the options) is missing` };
      if (!Array.isArray(values))
        return { ok: false, error: `field "${source}" (the options) is not a list` };
      return { ok: true, values, fields: [source] };
    }
  }
}

interface FieldNames {
  question: string;
  answer: string;
  id: string | undefined;
  answerIndexBase: 0 | 1;
}

function fieldNames(options: McqDatasetOptions): FieldNames {
  if (options.layout === 'mapped' && options.fields) {
    const { question, answer, id, answer_index_base } = options.fields;
    return { question, answer, id, answerIndexBase: answer_index_base };
  }
  return { question: 'question', answer: 'answer', id: 'id', answerIndexBase: 0 };
}

/** Applies the layout to one record and checks it: question text, 2–26 non-empty options, a gold answer among them. */
export function recordToQuestion(
  fields: Record<string, unknown>,
  options: McqDatasetOptions,
): QuestionResult {
  const names = fieldNames(options);
  const question = fields[names.question];
  if (isBlank(question)) {
    return { ok: false, error: `question (field "${names.question}") is missing or empty` };
  }
  if (typeof question !== 'string') {
    return { ok: false, error: `question (field "${names.question}") is not text` };
  }

  const optionValues = extractOptions(fields, options);
  if (!optionValues.ok) return optionValues;
  if (optionValues.values.length === 0) return { ok: false, error: 'there are no options' };
  if (optionValues.values.length < 2) {
    return { ok: false, error: 'only 1 option; a multiple-choice question needs at least 2' };
  }
  if (optionValues.values.length > LETTERS.length) {
    return {
      ok: false,
      error: `${optionValues.values.length} options; at most ${LETTERS.length} (A–Z) are supported`,
    };
  }

  const choices: string[] = [];
  for (const [index, value] of optionValues.values.entries()) {
    const letter = letterAt(index);
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isFinite(value))) {
      return { ok: false, error: `option ${letter} is not text` };
    }
    const text = options.strip_option_prefix ? stripOptionPrefix(String(value), letter) : String(value);
    if (text.trim() === '') {
      return {
        ok: false,
        error: `option ${letter} is empty${options.strip_option_prefix ? ' once its label is removed' : ''}`,
      };
    }
    choices.push(text);
  }

  const gold = parseGoldAnswer(fields[names.answer], choices.length, names.answerIndexBase);
  if (!gold.ok) return { ok: false, error: `${gold.error} (field "${names.answer}")` };

  const rawId = names.id === undefined ? undefined : fields[names.id];
  if (!isBlank(rawId) && typeof rawId !== 'string' && typeof rawId !== 'number') {
    return { ok: false, error: `id (field "${names.id}") is neither text nor a number` };
  }
  const recordId = isBlank(rawId) ? undefined : String(rawId).trim();

  const used = new Set([
    names.question,
    names.answer,
    ...optionValues.fields,
    ...(names.id ? [names.id] : []),
  ]);
  if (options.subset_field) used.add(options.subset_field);
  const meta = Object.fromEntries(Object.entries(fields).filter(([key]) => !used.has(key)));
  return { ok: true, question, choices, answer: letterAt(gold.index), recordId, meta };
}

// ---------------------------------------------------------------------------------------------------------
// Records of several files -> samples

export interface FileRecords {
  file: string;
  /** The subset named by the file, used when `subset_field` is not set. */
  subset: string;
  records: RawRecord[];
}

export interface BuiltSamples {
  samples: Sample[];
  problems: string[];
  /** Every subset a record pointed at, valid or not, in the order first seen. */
  subsets: string[];
}

/**
 * Ids are `<subset>-<record id>`, or `<subset>-<position>` where records have no id. The position counts every
 * record of the subset, bad ones too, so fixing one bad record does not renumber the others; for IQuiz it is the
 * 0-based line index, as in EvalScope.
 */
function buildSamples(files: FileRecords[], options: McqDatasetOptions): BuiltSamples {
  const samples: Sample[] = [];
  const problems: string[] = [];
  const positions = new Map<string, number>();
  const firstSeenAt = new Map<string, string>();

  for (const { file, subset: fileSubset, records } of files) {
    for (const record of records) {
      const where = `${file}:${record.line}`;
      let subset = fileSubset;
      if (options.subset_field) {
        // The subset is inside the record, so an unreadable record belongs to none.
        if (!record.ok) {
          problems.push(`${where}: ${record.error}`);
          continue;
        }
        const value = record.fields[options.subset_field];
        if (typeof value !== 'number' && (typeof value !== 'string' || value.trim() === '')) {
          problems.push(`${where}: subset (field "${options.subset_field}") is missing or empty`);
          continue;
        }
        subset = String(value).trim();
      }
      const position = positions.get(subset) ?? 0;
      positions.set(subset, position + 1);

      if (!record.ok) {
        problems.push(`${where}: ${record.error}`);
        continue;
      }
      const parsed = recordToQuestion(record.fields, options);
      if (!parsed.ok) {
        problems.push(`${where}: ${parsed.error}`);
        continue;
      }
      const id = `${subset}-${parsed.recordId ?? position}`;
      const earlier = firstSeenAt.get(id);
      if (earlier) {
        problems.push(`${where}: duplicate id "${id}" (first at ${earlier})`);
        continue;
      }
      firstSeenAt.set(id, where);
      samples.push({
        id,
        subset,
        question: parsed.question,
        choices: parsed.choices,
        answer: parsed.answer,
        meta: parsed.meta,
      });
    }
  }
  return { samples, problems, subsets: [...positions.keys()] };
}

// ---------------------------------------------------------------------------------------------------------
// Seeded selection: shuffle, limit, repeats

/** cyrb128: spreads a string over four 32-bit words, to seed sfc32. */
function hashToSeed(key: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < key.length; i++) {
    const k = key.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/**
 * sfc32 seeded from a string. Only 32-bit integer arithmetic, so every machine and Node version draws the same
 * sequence (Math.random cannot be seeded, and its algorithm is the engine's choice).
 */
export function seededRandom(key: string): () => number {
  let [a, b, c, d] = hashToSeed(key);
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** Fisher–Yates with a seeded generator; returns a new array. */
export function seededShuffle<T>(items: readonly T[], key: string): T[] {
  const random = seededRandom(key);
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}

export interface SelectOptions {
  /** Keep these subsets, in this order; default: every subset in the order first seen. */
  subsets?: string[];
  /** At most this many samples per subset, taken after the shuffle. */
  limit?: number;
  shuffle?: boolean;
  shuffle_choices?: boolean;
  seed?: number;
  repeats?: number;
}

/** Moves the options into a seeded order and the gold letter with them; `meta.choice_order` keeps the old letters. */
function shuffleChoices(sample: Sample, key: string): Sample {
  const order = seededShuffle(
    sample.choices.map((_, index) => index),
    key,
  );
  const goldIndex = LETTERS.indexOf(sample.answer);
  return {
    ...sample,
    choices: order.map((index) => sample.choices[index] as string),
    answer: letterAt(order.indexOf(goldIndex)),
    meta: { ...sample.meta, choice_order: order.map(letterAt) },
  };
}

/**
 * Picks and orders the samples to ask. Each subset is shuffled with its own key (`<seed>:<subset>`), so adding a
 * subset does not reorder the others. With repeats k > 1 every sample is asked k times, repeat by repeat, with id
 * `<id>#r<n>` and `meta.repeat = n` (n from 1); choice order, when shuffled, differs between repeats.
 */
export function selectSamples(samples: readonly Sample[], select: SelectOptions = {}): Sample[] {
  const { limit, shuffle = false, shuffle_choices = false, seed = 0, repeats = 1 } = select;
  const bySubset = new Map<string, Sample[]>();
  for (const sample of samples) {
    const group = bySubset.get(sample.subset);
    if (group) group.push(sample);
    else bySubset.set(sample.subset, [sample]);
  }
  const chosen = (select.subsets ?? [...bySubset.keys()]).flatMap((subset) => {
    const group = bySubset.get(subset) ?? [];
    const ordered = shuffle ? seededShuffle(group, `${seed}:${subset}`) : group;
    return limit === undefined ? ordered : ordered.slice(0, limit);
  });

  const result: Sample[] = [];
  for (let repeat = 1; repeat <= repeats; repeat++) {
    for (const sample of chosen) {
      const asked =
        repeats > 1 ? { ...sample, id: `${sample.id}#r${repeat}`, meta: { ...sample.meta, repeat } } : sample;
      result.push(shuffle_choices ? shuffleChoices(asked, `${seed}:${asked.id}`) : asked);
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------
// Accuracy over repeats

/** Splits `<id>#r<n>` into the question id and the repeat; ids without the suffix are repeat 1. */
export function parseRepeatId(id: string): { baseId: string; repeat: number } {
  const match = /^(.*)#r(\d+)$/.exec(id);
  return match?.[1] !== undefined && match[2]
    ? { baseId: match[1], repeat: Number(match[2]) }
    : { baseId: id, repeat: 1 };
}

export interface RepeatStats {
  /** One entry per repeat, in repeat order. */
  perRepeat: { repeat: number; num: number; correct: number; accuracy: number }[];
  /** Mean of the per-repeat accuracies (fraction 0..1); 0 when there are no records. */
  mean: number;
  /** Sample standard deviation (n − 1) of the per-repeat accuracies; 0 with fewer than two repeats. */
  std: number;
}

export function repeatStats(records: readonly { id: string; correct: boolean }[]): RepeatStats {
  const tallies = new Map<number, { num: number; correct: number }>();
  for (const record of records) {
    const { repeat } = parseRepeatId(record.id);
    const tally = tallies.get(repeat) ?? { num: 0, correct: 0 };
    tally.num++;
    if (record.correct) tally.correct++;
    tallies.set(repeat, tally);
  }
  const perRepeat = [...tallies.entries()]
    .sort(([a], [b]) => a - b)
    .map(([repeat, { num, correct }]) => ({ repeat, num, correct, accuracy: correct / num }));
  if (perRepeat.length === 0) return { perRepeat, mean: 0, std: 0 };
  const mean = perRepeat.reduce((sum, r) => sum + r.accuracy, 0) / perRepeat.length;
  const variance =
    perRepeat.length < 2
      ? 0
      : perRepeat.reduce((sum, r) => sum + (r.accuracy - mean) ** 2, 0) / (perRepeat.length - 1);
  return { perRepeat, mean, std: Math.sqrt(variance) };
}

// ---------------------------------------------------------------------------------------------------------
// The edge: finding and reading files

type FileFormat = 'jsonl' | 'csv';

const SPLIT_SUFFIX = /^(.*)_(dev|val|test|train)$/;

interface DatasetFile {
  path: string;
  format: FileFormat;
  subset: string;
}

function formatOf(path: string, format: McqDatasetOptions['format']): FileFormat | undefined {
  if (format !== 'auto') return format;
  const extension = extname(path).toLowerCase();
  if (extension === '.jsonl') return 'jsonl';
  if (extension === '.csv') return 'csv';
  return undefined;
}

function subsetOfFile(path: string, options: McqDatasetOptions): string {
  const stem = basename(path, extname(path));
  const split = options.layout === 'general_mcq' ? SPLIT_SUFFIX.exec(stem) : null;
  return split?.[1] ?? stem;
}

async function listDatasetFiles(path: string, options: McqDatasetOptions): Promise<DatasetFile[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new DatasetError(`Dataset path ${path} does not exist.`);
  if (info.isFile()) {
    const format = formatOf(path, options.format);
    if (!format) {
      throw new DatasetError(
        `Cannot tell the format of ${path} from its extension; set format: jsonl or format: csv.`,
      );
    }
    return [{ path, format, subset: subsetOfFile(path, options) }];
  }

  const wanted = options.format === 'auto' ? '.jsonl or .csv' : `.${options.format}`;
  // In a folder the extension decides; `format` only narrows which extension is read.
  const candidates = (await readdir(path, { withFileTypes: true }))
    .filter((entry) => entry.isFile())
    .map((entry) => ({ name: entry.name, format: formatOf(entry.name, 'auto') }))
    .filter(
      (entry): entry is { name: string; format: FileFormat } =>
        entry.format !== undefined && (options.format === 'auto' || entry.format === options.format),
    )
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  if (candidates.length === 0) throw new DatasetError(`Dataset folder ${path} has no ${wanted} files.`);

  const inSplit =
    options.layout === 'general_mcq'
      ? candidates.filter(({ name }) => {
          const split = SPLIT_SUFFIX.exec(basename(name, extname(name)));
          return !split || split[2] === options.split;
        })
      : candidates;
  if (inSplit.length === 0) {
    const found = candidates.map(({ name }) => name).join(', ');
    throw new DatasetError(
      `Dataset folder ${path} has no files for split "${options.split}" (found ${found}); set split to the one to evaluate.`,
    );
  }
  return inSplit.map(({ name, format }) => {
    const file = join(path, name);
    return { path: file, format, subset: subsetOfFile(file, options) };
  });
}

function parseOptions(input: McqDatasetOptionsInput): McqDatasetOptions {
  const parsed = McqDatasetOptionsSchema.safeParse(input);
  if (!parsed.success) throw new DatasetError(`Invalid dataset options:\n${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export interface LoadMcqRequest {
  /** A .jsonl / .csv file, or a folder holding them (not searched recursively; files read in name order). */
  path: string;
  /** Recorded in the provenance; default: the base name of `path`. */
  name?: string;
  /** Keep only these subsets, in this order; default: every subset, in the order first seen. */
  subsets?: string[];
  /** At most this many samples per subset (after the shuffle, before repeats). */
  limit?: number;
  options?: McqDatasetOptionsInput;
}

/**
 * Reads a multiple-choice dataset. Bad records are listed in `problems` as `file:line: why` and skipped, or,
 * with `on_bad_record: 'fail'`, make it throw a DatasetError listing them. It also throws when a requested subset
 * does not exist or nothing usable is left.
 */
export async function loadMcqDataset(request: LoadMcqRequest): Promise<LoadedDataset> {
  const options = parseOptions(request.options ?? {});
  if (request.limit !== undefined && !(Number.isInteger(request.limit) && request.limit > 0)) {
    throw new DatasetError(`limit must be a positive integer, not ${request.limit}.`);
  }
  const allFiles = await listDatasetFiles(request.path, options);
  // Subsets named by files: a file of an unrequested subset need not be read at all.
  const files =
    request.subsets && !options.subset_field
      ? allFiles.filter((file) => request.subsets?.includes(file.subset))
      : allFiles;

  const provenance: DatasetProvenance = { name: request.name ?? basename(request.path), files: [] };
  const fileProblems: string[] = [];
  const fileRecords: FileRecords[] = [];
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  for (const file of files) {
    const bytes = await readFile(file.path);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      fileProblems.push(
        `${file.path}:1: not UTF-8 text; save the file as UTF-8 (GBK and other encodings are not read)`,
      );
      provenance.files.push({ path: file.path, sha256, records: 0 });
      continue;
    }
    const parsed = file.format === 'jsonl' ? parseJsonl(text, file.path) : parseCsv(text, file.path);
    fileProblems.push(...parsed.problems);
    provenance.files.push({ path: file.path, sha256, records: parsed.records.length });
    fileRecords.push({ file: file.path, subset: file.subset, records: parsed.records });
  }

  const built = buildSamples(fileRecords, options);
  const problems = [...fileProblems, ...built.problems];
  if (options.on_bad_record === 'fail' && problems.length > 0) {
    throw new DatasetError(
      `${request.path}: ${problems.length} bad record${problems.length === 1 ? '' : 's'} (on_bad_record: fail):\n${formatDatasetProblems(problems)}`,
    );
  }

  const available = options.subset_field ? built.subsets : [...new Set(allFiles.map((file) => file.subset))];
  const unknown = (request.subsets ?? []).filter((subset) => !available.includes(subset));
  if (unknown.length > 0) {
    throw new DatasetError(
      `${request.path}: no subset ${unknown.map((s) => `"${s}"`).join(', ')}; available: ${available.join(', ') || '(none)'}.`,
    );
  }

  const samples = selectSamples(built.samples, {
    subsets: request.subsets,
    limit: request.limit,
    shuffle: options.shuffle,
    shuffle_choices: options.shuffle_choices,
    seed: options.seed,
    repeats: options.repeats,
  });
  if (samples.length === 0) {
    const why = problems.length > 0 ? `; every record was bad:\n${formatDatasetProblems(problems)}` : '.';
    throw new DatasetError(`${request.path}: no usable multiple-choice records${why}`);
  }
  return { samples, provenance, problems };
}
