import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { choiceLetters, MAX_CHOICES } from './letters.js';
import { DatasetError, formatDatasetProblems } from './problems.js';
import { resolveDatasetSource } from './resolve.js';
import { selectSamples } from './select.js';
import type { DatasetLoader, DatasetProvenance, LoadedDataset, Sample } from './types.js';

/** IQuiz subsets in EvalScope's order; each is the stem of a JSON Lines file in the dataset folder. */
const IQUIZ_SUBSETS = ['IQ', 'EQ'] as const;

export interface IquizLoadOptions {
  /** Subsets to load, in this order. Default: IQ then EQ. */
  subsets?: string[];
  /** At most this many samples per subset, taken from the start of each file. */
  limit?: number;
}

/**
 * Reads an IQuiz-format folder (`IQ.jsonl`, `EQ.jsonl`; one `{question, choices, answer, level}` per line).
 * A bad record is reported in `problems` and skipped; a missing file is an error, since an evaluation
 * without one of its subsets would report a score that means something else.
 */
export async function loadIquiz(folder: string, opts: IquizLoadOptions = {}): Promise<LoadedDataset> {
  const subsets = opts.subsets ?? [...IQUIZ_SUBSETS];
  const samples: Sample[] = [];
  const problems: string[] = [];
  const provenance: DatasetProvenance = { name: 'iquiz', files: [] };

  for (const subset of subsets) {
    const file = path.resolve(folder, `${subset}.jsonl`);
    const bytes = await readDatasetFile(file, folder);
    const parsed = parseIquizJsonl(bytes.toString('utf8'), subset, file);
    provenance.files.push({
      path: file,
      sha256: createHash('sha256').update(bytes).digest('hex'),
      records: parsed.records,
    });
    samples.push(...(opts.limit === undefined ? parsed.samples : parsed.samples.slice(0, opts.limit)));
    problems.push(...parsed.problems);
  }
  return { samples, provenance, problems };
}

/**
 * `dataset: iquiz`: the folder dataset_path names, else AI-ModelScope/IQuiz downloaded into the cache. The `mcq`
 * options that fit a fixed layout apply: shuffle, repeats and on_bad_record.
 */
export const iquizLoader: DatasetLoader<'iquiz'> = {
  name: 'iquiz',
  async load(request, context) {
    const source = await resolveDatasetSource({
      dataset: 'iquiz',
      dataset_path: request.dataset_path,
      baseDir: context.baseDir,
      offline: context.offline,
      cacheDir: context.cacheDir,
      signal: context.signal,
      onProgress: context.onDownloadProgress,
    });
    const dataset = await loadIquiz(source.folder, { subsets: request.subsets });
    const options = request.mcq;
    if (options?.on_bad_record === 'fail' && dataset.problems.length > 0) {
      throw new DatasetError(
        `${request.name}: bad records in ${source.folder} (mcq.on_bad_record: fail):\n${formatDatasetProblems(dataset.problems)}`,
      );
    }
    // limit after the shuffle, as for any MCQ data: a shuffled limit samples the whole set.
    return { ...dataset, samples: selectSamples(dataset.samples, { ...options, limit: request.limit }) };
  },
};

async function readDatasetFile(file: string, folder: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    const reason =
      error instanceof Error && 'code' in error && error.code === 'ENOENT' ? 'not found' : String(error);
    throw new Error(
      `IQuiz file ${file}: ${reason}. Set dataset_path to a folder that holds IQ.jsonl and EQ.jsonl ` +
        `(now: ${folder}), or list only the subsets that folder has in subsets.`,
      { cause: error },
    );
  }
}

export interface ParsedSubset {
  samples: Sample[];
  problems: string[];
  /** Non-blank lines in the file, good and bad. */
  records: number;
}

/**
 * Parses one subset file. A sample's id is `<subset>-<index>`, the index counting every record
 * (bad ones too), so ids stay tied to the line a record sits on, as EvalScope's indices are.
 */
export function parseIquizJsonl(text: string, subset: string, file: string): ParsedSubset {
  const samples: Sample[] = [];
  const problems: string[] = [];
  let records = 0;
  // A byte-order mark (as some Windows editors write) would make the first record invalid JSON.
  text
    .replace(/^\uFEFF/, '')
    .split('\n')
    .forEach((line, lineIndex) => {
      if (line.trim() === '') return;
      const index = records++;
      const result = toSample(line, subset, index);
      if (typeof result === 'string') problems.push(`${file}:${lineIndex + 1}: ${result}`);
      else samples.push(result);
    });
  return { samples, problems, records };
}

/** The sample, or why the record cannot be one. */
function toSample(line: string, subset: string, index: number): Sample | string {
  let record: unknown;
  try {
    record = JSON.parse(line);
  } catch (error) {
    return `invalid JSON (${error instanceof Error ? error.message : String(error)})`;
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) return 'not a JSON object';
  const { question, choices, answer, level } = record as Record<string, unknown>;

  if (typeof question !== 'string' || question.trim() === '') return 'missing question';
  if (!Array.isArray(choices) || choices.length === 0) return 'choices must be a non-empty list';
  if (!choices.every((choice): choice is string => typeof choice === 'string'))
    return 'every choice must be a string';
  if (choices.length > MAX_CHOICES)
    return `${choices.length} choices; at most ${MAX_CHOICES} (A-Z) are supported`;
  if (typeof answer !== 'string' || answer.trim() === '') return 'missing answer (the gold letter)';
  const letters = choiceLetters(choices.length);
  const gold = answer.trim().toUpperCase();
  if (!letters.includes(gold))
    return `answer ${JSON.stringify(answer)} is not one of the options ${letters.join(',')}`;

  return {
    id: `${subset}-${index}`,
    subset,
    question,
    choices,
    answer: gold,
    // EvalScope's adapter uses the same default for a record without a level.
    meta: { level: level ?? 'unknown' },
  };
}
