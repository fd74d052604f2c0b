import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { UserError } from '../errors.js';
import { PREDICTIONS_FILE, RESULT_FILE } from '../eval/native/predictions-file.js';
import type { EvalResult, PredictionRecord } from '../eval/types.js';
import type { Manifest } from '../run/manifest.js';
import { evalDirOf, MANIFEST_FILE, SUMMARY_FILE } from '../run/run-dir.js';
import type { MatrixSummary, RunSummary } from '../run/summary.js';

/** A finished run as its folder holds it: what every report file is rendered from. */
export interface RunFolder {
  dir: string;
  /** summary.json, each evaluation with its result.json where there is one; `run_dir` is the folder read. */
  summary: RunSummary;
  manifest: Manifest | null;
}

export interface MatrixFolder {
  dir: string;
  summary: MatrixSummary;
  variants: { name: string; folder: RunFolder }[];
}

function readJsonFile(file: string): unknown {
  return JSON.parse(readFileSync(file, 'utf8'));
}

function readOptionalJson<T>(file: string): T | null {
  try {
    return readJsonFile(file) as T;
  } catch {
    return null;
  }
}

function readSummaryJson(dir: string): RunSummary | MatrixSummary {
  const file = join(dir, SUMMARY_FILE);
  let value: RunSummary | MatrixSummary;
  try {
    value = readJsonFile(file) as RunSummary | MatrixSummary;
  } catch (error) {
    throw new UserError(
      `${dir} is not a finished run folder: ${SUMMARY_FILE} cannot be read (${(error as Error).message})`,
    );
  }
  if (typeof value?.plan !== 'string' || !('variants' in value || Array.isArray(value.evals)))
    throw new UserError(`${file} is not the summary of an evalrig run`);
  return value;
}

function runFolderFrom(dir: string, stored: RunSummary): RunFolder {
  const evals = stored.evals.map((evalSummary) => {
    const result = readOptionalJson<EvalResult>(join(evalDirOf(dir, evalSummary.name), RESULT_FILE));
    return result ? { ...evalSummary, result } : evalSummary;
  });
  return {
    dir,
    summary: { ...stored, run_dir: dir, evals },
    manifest: readOptionalJson<Manifest>(join(dir, MANIFEST_FILE)),
  };
}

/** A run folder or a matrix folder, told apart by its summary.json. */
export function readFolder(dir: string): { run: RunFolder } | { matrix: MatrixFolder } {
  const stored = readSummaryJson(dir);
  if (!('variants' in stored)) return { run: runFolderFrom(dir, stored) };
  // Each variant is read from its own folder, which has its manifest and results; the copy in the matrix's
  // summary stands in for a variant folder that cannot be read.
  const variants = stored.variants.map(({ name, summary }) => {
    const variantDir = join(dir, name);
    const variantSummary = existsSync(join(variantDir, SUMMARY_FILE)) ? readSummaryJson(variantDir) : summary;
    if ('variants' in variantSummary) throw new UserError(`${variantDir} holds a matrix inside a matrix`);
    return { name, folder: runFolderFrom(variantDir, variantSummary) };
  });
  return {
    matrix: {
      dir,
      summary: {
        ...stored,
        run_dir: dir,
        variants: variants.map(({ name, folder }) => ({ name, summary: folder.summary })),
      },
      variants,
    },
  };
}

export function readRunFolder(dir: string): RunFolder {
  const folder = readFolder(dir);
  if ('matrix' in folder)
    throw new UserError(`${dir} is a matrix folder: name one of its variant folders instead`);
  return folder.run;
}

export function readMatrixFolder(dir: string): MatrixFolder {
  const folder = readFolder(dir);
  if ('run' in folder) throw new UserError(`${dir} is a run folder, not a matrix folder`);
  return folder.matrix;
}

/**
 * An evaluation's predictions.jsonl, one record per sample: a resumed run appends a newer line for a sample asked
 * again, and the newest line wins. Lines that are not records (a line torn by a kill) are skipped; no file, none.
 */
export function readPredictions(runDir: string, evalName: string): PredictionRecord[] {
  let text: string;
  try {
    text = readFileSync(join(evalDirOf(runDir, evalName), PREDICTIONS_FILE), 'utf8');
  } catch {
    return [];
  }
  const newest = new Map<string, PredictionRecord>();
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const record = JSON.parse(line) as PredictionRecord;
      if (typeof record.id === 'string') newest.set(record.id, record);
    } catch {
      continue;
    }
  }
  return [...newest.values()];
}

/**
 * The folder of the run this one was compared with (`compared_with`), when it can still be read: where the run
 * recorded it, or beside this run's folder under the same name (an output folder copied from another machine).
 */
export function comparedRunDir(summary: RunSummary): string | null {
  const recorded = summary.compared_with?.run_dir;
  if (!recorded) return null;
  const candidates = [recorded, join(dirname(summary.run_dir), basename(recorded))];
  return candidates.find((dir) => existsSync(join(dir, SUMMARY_FILE))) ?? null;
}
