import type { McqDatasetOptions } from '../../plan/dataset-options.js';
import { choiceLetter, letterIndex, MAX_CHOICES } from '../letters.js';

/**
 * Turning one record into a question, by the layout the options name: IQuiz-like (`choices` list), EvalScope's
 * general_mcq (option columns A, B, C, …) or a field mapping.
 */

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
    else if (letter) index = letterIndex(letter.toUpperCase());
    else return { ok: false, error: `gold answer "${shown}" is neither a letter nor an index` };
  } else {
    return { ok: false, error: `gold answer is a ${typeof value}, not a letter or an index` };
  }
  if (index < 0 || index >= optionCount) {
    return {
      ok: false,
      error: `gold answer ${shown} is not among the ${optionCount} options (A–${choiceLetter(optionCount - 1)})`,
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
      error: `option ${choiceLetter(gap)} (field "${columns[gap]}") is empty but a later option is not`,
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
  const missing = present.findIndex((key, index) => key !== choiceLetter(index));
  if (missing >= 0) {
    return {
      ok: false,
      error: `option column ${choiceLetter(missing)} is missing but ${present[missing]} is there`,
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
  if (optionValues.values.length > MAX_CHOICES) {
    return {
      ok: false,
      error: `${optionValues.values.length} options; at most ${MAX_CHOICES} (A–Z) are supported`,
    };
  }

  const choices: string[] = [];
  for (const [index, value] of optionValues.values.entries()) {
    const letter = choiceLetter(index);
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
  return { ok: true, question, choices, answer: choiceLetter(gold.index), recordId, meta };
}
