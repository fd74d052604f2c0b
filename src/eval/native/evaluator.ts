import { resolve } from 'node:path';
import { loadIquiz } from '../../datasets/iquiz.js';
import { DatasetError, formatDatasetProblems, loadMcqDataset, selectSamples } from '../../datasets/mcq.js';
import { resolveDatasetSource } from '../../datasets/resolve.js';
import type { LoadedDataset } from '../../datasets/types.js';
import type { NativeEvalSpec } from '../../plan/schema.js';
import type { Evaluator, PrepareContext } from '../evaluator.js';
import { runNative } from './runner.js';

async function loadDataset(spec: NativeEvalSpec, ctx: PrepareContext): Promise<LoadedDataset> {
  if (spec.dataset === 'mcq') {
    const path = resolve(ctx.planDir, spec.dataset_path ?? '.');
    return loadMcqDataset({
      path,
      name: spec.name,
      subsets: spec.subsets,
      limit: spec.limit,
      options: spec.mcq,
    });
  }
  const source = await resolveDatasetSource({
    dataset: 'iquiz',
    dataset_path: spec.dataset_path,
    baseDir: ctx.planDir,
    offline: ctx.datasets.offline,
    cacheDir: ctx.datasets.cache_dir,
    signal: ctx.signal,
    onProgress: (event) => {
      // Per-chunk data events would flood a CI log; the file-level events say what matters.
      if (event.kind === 'download') ctx.display.info(`downloading ${event.file} from ${event.url}`);
      if (event.kind === 'retry') ctx.display.warn(`retrying ${event.file}: ${event.reason}`);
      if (event.kind === 'stale')
        ctx.display.warn(`cached ${event.file} is stale (${event.reason}): downloading again`);
      if (event.kind === 'done')
        ctx.display.info(
          `downloaded ${event.file} (${event.bytes} bytes, sha256 ${event.sha256.slice(0, 12)}…)`,
        );
    },
  });
  const dataset = await loadIquiz(source.folder, { subsets: spec.subsets });
  const options = spec.mcq;
  if (options?.on_bad_record === 'fail' && dataset.problems.length > 0) {
    throw new DatasetError(
      `${spec.name}: bad records in ${source.folder} (mcq.on_bad_record: fail):\n${formatDatasetProblems(dataset.problems)}`,
    );
  }
  // limit after the shuffle, as for any MCQ data: a shuffled limit samples the whole set.
  return { ...dataset, samples: selectSamples(dataset.samples, { ...options, limit: spec.limit }) };
}

/** Our own evaluator: EvalScope's prompt through the openai client, scored as EvalScope scores it. */
export const nativeEvaluator: Evaluator = {
  backend: 'native',
  async prepare(spec, ctx) {
    const dataset = await loadDataset(spec, ctx);
    if (dataset.samples.length === 0) {
      const why =
        dataset.problems.length > 0
          ? `every record was skipped, e.g. ${dataset.problems[0]}`
          : 'the files hold no records';
      throw new Error(`${spec.name}: the dataset has no usable samples (${why}).`);
    }
    return { spec, samples: dataset.samples, provenance: dataset.provenance, problems: dataset.problems };
  },
  async run(prepared, endpoint, ctx) {
    const { spec, samples } = prepared;
    ctx.display.evalStart(spec.name, samples.length);
    let correct = 0;
    return runNative(spec, samples, endpoint, {
      evalDir: ctx.evalDir,
      signal: ctx.signal,
      mask: ctx.mask,
      onProgress: (done, _total, record) => {
        if (record.correct) correct++;
        ctx.display.evalProgress(done, correct);
      },
    });
  },
};
