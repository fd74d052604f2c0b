import { readdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import type { McqDatasetOptions } from '../../plan/dataset-options.js';
import { DatasetError } from '../problems.js';

/** Which files of a dataset path are read, in what format, and the subset each one names. */

export type FileFormat = 'jsonl' | 'csv';

export interface DatasetFile {
  path: string;
  format: FileFormat;
  /** The file name without extension, and for general_mcq without its `_<split>` suffix. */
  subset: string;
}

const SPLIT_SUFFIX = /^(.*)_(dev|val|test|train)$/;

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

/**
 * A file is read whatever its extension once `format` says how; a folder's .jsonl / .csv files are read in name
 * order, not recursively, and for general_mcq only those of the requested split.
 */
export async function listDatasetFiles(path: string, options: McqDatasetOptions): Promise<DatasetFile[]> {
  const info = await stat(path).catch(() => undefined);
  if (!info)
    throw new DatasetError(
      `Dataset path ${path} does not exist; check the eval's dataset_path (a relative path starts at the plan's folder).`,
    );
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
