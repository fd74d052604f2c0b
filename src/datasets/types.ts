import type { McqDatasetOptionsInput } from '../plan/dataset-options.js';
import type { ModelScopeProgress } from './modelscope.js';

/** One multiple-choice question, whatever file layout it came from. */
export interface Sample {
  /** Stable within a dataset: `<subset>-<index>` for IQuiz, the record id where the data has one. */
  id: string;
  subset: string;
  question: string;
  /** Option texts without letter prefixes, in order A, B, C, ... */
  choices: string[];
  /** Gold letter, upper case. */
  answer: string;
  meta: Record<string, unknown>;
}

/** Where a dataset came from, recorded in the manifest so a run can be reproduced. */
export interface DatasetProvenance {
  name: string;
  files: { path: string; sha256: string; records: number }[];
}

export interface LoadedDataset {
  samples: Sample[];
  provenance: DatasetProvenance;
  /** Records that were skipped, with file:line and why. */
  problems: string[];
}

/** What an evaluation asks of its dataset, in the plan's own keys. */
export interface DatasetRequest {
  /** The evaluation's name, for the provenance and error messages. */
  name: string;
  /** A file or folder, relative to `DatasetContext.baseDir`; some datasets are downloaded without one. */
  dataset_path?: string;
  /** Keep only these subsets, in this order; default: every subset. */
  subsets?: string[];
  /** At most this many samples per subset, taken after the shuffle and before repeats. */
  limit?: number;
  /** Layout, shuffle, repeats and bad-record handling. */
  mcq?: McqDatasetOptionsInput;
}

/** What the run lends a loader: where the plan lies, the download settings and the run's abort signal. */
export interface DatasetContext {
  /** Folder a relative dataset_path is taken from (the plan file's folder). */
  baseDir: string;
  /** Never touch the network: use dataset_path or the cache only. */
  offline: boolean;
  /** Where downloads are kept; default EVALRIG_CACHE, else ~/.cache/evalrig. */
  cacheDir?: string;
  /** Aborting stops a download at once and rejects with the signal's reason. */
  signal?: AbortSignal;
  onDownloadProgress?: (event: ModelScopeProgress) => void;
}

/** One dataset evalrig can evaluate on, as the plan's `dataset:` names it. */
export interface DatasetLoader<Name extends string = string> {
  name: Name;
  /** The samples to ask, selected and ordered; bad records are listed in `problems` or, if asked, thrown. */
  load(request: DatasetRequest, context: DatasetContext): Promise<LoadedDataset>;
}
