import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { z } from 'zod';
import {
  McqDatasetOptionsSchema,
  type McqDatasetOptions,
  type McqDatasetOptionsInput,
} from '../../plan/dataset-options.js';
import { DatasetError, formatDatasetProblems } from '../problems.js';
import { selectSamples } from '../select.js';
import type { DatasetLoader, DatasetProvenance, LoadedDataset } from '../types.js';
import { listDatasetFiles } from './files.js';
import { parseCsv, parseJsonl } from './parse.js';
import { buildSamples, type FileRecords } from './samples.js';

/**
 * Generic multiple-choice loader: JSONL or CSV files in three layouts (IQuiz-like, EvalScope general_mcq, or a
 * field mapping). Only this module and files.ts touch the file system; parsing, validation and selection are pure.
 */

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

/** `dataset: mcq`: local files only, so nothing of the context but the plan's folder is needed. */
export const mcqLoader: DatasetLoader<'mcq'> = {
  name: 'mcq',
  load: (request, context) =>
    loadMcqDataset({
      path: resolve(context.baseDir, request.dataset_path ?? '.'),
      name: request.name,
      subsets: request.subsets,
      limit: request.limit,
      options: request.mcq,
    }),
};
