import { stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { expandHome } from '../util/paths.js';
import { DatasetError } from './problems.js';
import { fetchModelScopeFiles, type ModelScopeFile, type ModelScopeProgress } from './modelscope.js';

/** Where each named dataset lives on ModelScope when the plan gives no dataset_path. */
export const HUB_DATASETS = {
  iquiz: { dataset: 'AI-ModelScope/IQuiz', files: ['IQ.jsonl', 'EQ.jsonl'] },
} as const satisfies Record<string, { dataset: string; files: readonly string[] }>;

export type HubDatasetName = keyof typeof HUB_DATASETS;

export interface ResolveDatasetOptions {
  dataset: HubDatasetName;
  /** A local folder holding the dataset files; when set, nothing is downloaded. `~/…` is the home folder. */
  dataset_path?: string;
  /** Folder a relative dataset_path is taken from (the plan file's folder); default: the working directory. */
  baseDir?: string;
  offline?: boolean;
  /** `datasets.cache_dir`; `~/…` is the home folder. */
  cacheDir?: string;
  /** The run's signal: aborting stops a download at once, leaving no partial file, and rejects with its reason. */
  signal?: AbortSignal;
  /** The rest is passed to fetchModelScopeFiles. */
  revision?: string;
  endpoint?: string;
  fetchImpl?: typeof fetch;
  onProgress?: (event: ModelScopeProgress) => void;
}

export type DatasetOrigin =
  | { kind: 'local'; path: string }
  | { kind: 'modelscope'; dataset: string; revision: string; endpoint: string; files: ModelScopeFile[] };

export interface ResolvedDatasetSource {
  /** The local folder to load the dataset from. */
  folder: string;
  /** Where the folder came from, for the run manifest. */
  origin: DatasetOrigin;
}

/** A local folder for the dataset: `dataset_path` when given (it must be a folder), else the ModelScope download. */
export async function resolveDatasetSource(options: ResolveDatasetOptions): Promise<ResolvedDatasetSource> {
  if (options.dataset_path !== undefined) {
    const folder = resolvePath(options.baseDir ?? process.cwd(), expandHome(options.dataset_path));
    const info = await stat(folder).catch(() => undefined);
    if (!info)
      throw new DatasetError(
        `dataset_path ${folder} does not exist; check the eval's dataset_path (a relative path starts at the plan's folder).`,
      );
    if (!info.isDirectory()) {
      throw new DatasetError(
        `dataset_path ${folder} is a file; give the folder that holds the ${options.dataset} files.`,
      );
    }
    return { folder, origin: { kind: 'local', path: folder } };
  }

  const hub = HUB_DATASETS[options.dataset];
  const fetched = await fetchModelScopeFiles({
    dataset: hub.dataset,
    files: [...hub.files],
    revision: options.revision,
    endpoint: options.endpoint,
    cacheDir: options.cacheDir,
    offline: options.offline,
    fetchImpl: options.fetchImpl,
    onProgress: options.onProgress,
    signal: options.signal,
  });
  const { folder, dataset, revision, endpoint, files } = fetched;
  return { folder, origin: { kind: 'modelscope', dataset, revision, endpoint, files } };
}
