import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { loadIquiz } from '../../datasets/iquiz.js';
import { loadMcqDataset, repeatStats } from '../../datasets/mcq.js';
import { resolveDatasetSource } from '../../datasets/resolve.js';
import type { LoadedDataset } from '../../datasets/types.js';
import type { NativeEvalSpec } from '../../plan/schema.js';
import type { EvalContext, Evaluator } from '../evaluator.js';
import { RESULT_FILE, runNative } from './runner.js';

async function loadDataset(spec: NativeEvalSpec, ctx: EvalContext): Promise<LoadedDataset> {
  if (spec.dataset === 'mcq') {
    const path = resolve(ctx.planDir, spec.dataset_path ?? '.');
    return loadMcqDataset({ path, name: spec.name, subsets: spec.subsets, limit: spec.limit, options: spec.mcq });
  }
  const source = await resolveDatasetSource({
    dataset: 'iquiz',
    dataset_path: spec.dataset_path,
    baseDir: ctx.planDir,
    offline: ctx.datasets.offline,
    cacheDir: ctx.datasets.cache_dir,
    onProgress: (event) => {
      // Per-chunk data events would flood a CI log; the file-level events say what matters.
      if (event.kind === 'download') ctx.display.info(`downloading ${event.file} from ${event.url}`);
      if (event.kind === 'retry') ctx.display.warn(`retrying ${event.file}: ${event.reason}`);
      if (event.kind === 'stale') ctx.display.warn(`cached ${event.file} is stale (${event.reason}): downloading again`);
      if (event.kind === 'done') ctx.display.info(`downloaded ${event.file} (${event.bytes} bytes, sha256 ${event.sha256.slice(0, 12)}…)`);
    },
  });
  return loadIquiz(source.folder, { subsets: spec.subsets, limit: spec.limit });
}

/** Our own evaluator: EvalScope's prompt through the openai client, scored as EvalScope scores it. */
export const nativeEvaluator: Evaluator = {
  backend: 'native',
  async run(spec, endpoint, ctx) {
    const dataset = await loadDataset(spec, ctx);
    ctx.recordDataset(dataset.provenance);
    for (const problem of dataset.problems) ctx.display.warn(`${spec.name}: skipped ${problem}`);
    if (dataset.samples.length === 0) throw new Error(`${spec.name}: the dataset has no usable samples`);
    ctx.display.evalStart(spec.name, dataset.samples.length);
    const outcomes: { id: string; correct: boolean }[] = [];
    let correct = 0;
    const result = await runNative(spec, dataset.samples, endpoint, {
      evalDir: ctx.evalDir,
      signal: ctx.signal,
      onProgress: (done, _total, record) => {
        outcomes.push({ id: record.id, correct: record.correct });
        if (record.correct) correct++;
        ctx.display.evalProgress(done, correct);
      },
    });
    const k = spec.mcq?.repeats ?? 1;
    if (k <= 1) return result;
    // Sampling at temperature > 0 is noisy: report each pass and the spread, not just the pooled mean.
    const stats = repeatStats(outcomes);
    const withRepeats = {
      ...result,
      repeats: { k, mean: stats.mean, std: stats.std, per_repeat: stats.perRepeat.map(({ repeat, num, accuracy }) => ({ repeat, num, accuracy })) },
    };
    await writeFile(join(ctx.evalDir, RESULT_FILE), JSON.stringify(withRepeats, null, 2) + '\n');
    return withRepeats;
  },
};
