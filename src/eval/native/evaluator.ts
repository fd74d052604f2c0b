import { join } from 'node:path';
import { datasetLoader } from '../../datasets/registry.js';
import type { ModelScopeProgress } from '../../datasets/modelscope.js';
import type { NativeEvalSpec } from '../../plan/schema.js';
import { specOf, type Evaluator, type PrepareContext } from '../evaluator.js';
import { estimateTokensAtLeast } from '../token-estimate.js';
import { renderPrompt } from './prompt.js';
import type { NativeTask } from './runner.js';

/** What the runner needs of the plan's evaluation. */
export function nativeTaskOf(spec: NativeEvalSpec): NativeTask {
  return {
    name: spec.name,
    dataset: spec.dataset,
    concurrency: spec.concurrency,
    generation: spec.generation,
    repeats: spec.mcq?.repeats ?? 1,
  };
}

/** Per-chunk data events would flood a CI log; the file-level events say what matters. */
function showDownload(event: ModelScopeProgress, display: PrepareContext['display']): void {
  if (event.kind === 'download') display.info(`downloading ${event.file} from ${event.url}`);
  if (event.kind === 'retry') display.warn(`retrying ${event.file}: ${event.reason}`);
  if (event.kind === 'stale')
    display.warn(`cached ${event.file} is stale (${event.reason}): downloading again`);
  if (event.kind === 'done')
    display.info(`downloaded ${event.file} (${event.bytes} bytes, sha256 ${event.sha256.slice(0, 12)}…)`);
}

/** Our own evaluator: EvalScope's prompt through the openai client, scored as EvalScope scores it. */
export const nativeEvaluator: Evaluator = {
  backend: 'native',
  describe(evalSpec) {
    const spec = specOf(evalSpec, 'native');
    const source = spec.dataset_path ? ` (${spec.dataset_path})` : ' (download from ModelScope)';
    return {
      dataset: spec.dataset,
      metric: 'mean_acc',
      lines: [
        `dataset ${spec.dataset}${source}, concurrency ${spec.concurrency}${spec.limit ? `, limit ${spec.limit} per subset` : ''}`,
        `generation: ${JSON.stringify(spec.generation)}`,
      ],
    };
  },
  async prepare(evalSpec, ctx) {
    const spec = specOf(evalSpec, 'native');
    const dataset = await datasetLoader(spec.dataset).load(spec, {
      baseDir: ctx.planDir,
      offline: ctx.datasets.offline,
      cacheDir: ctx.datasets.cache_dir,
      signal: ctx.signal,
      onDownloadProgress: (event) => showDownload(event, ctx.display),
    });
    if (dataset.samples.length === 0) {
      const why =
        dataset.problems.length > 0
          ? `every record was skipped, e.g. ${dataset.problems[0]}`
          : 'the files hold no records';
      throw new Error(`${spec.name}: the dataset has no usable samples (${why}).`);
    }
    const longestPromptTokens = dataset.samples.reduce(
      (longest, sample) => Math.max(longest, estimateTokensAtLeast(renderPrompt(sample))),
      0,
    );
    return {
      spec,
      samples: dataset.samples,
      provenance: dataset.provenance,
      problems: dataset.problems,
      requestBudget: { longestPromptTokens, maxTokens: spec.generation.max_tokens },
    };
  },
  async preload() {
    await import('./runner.js');
  },
  async answeredSoFar(prepared, evalDir) {
    // Loaded by the runner already: the command's start-up does not pay for them.
    const [{ PREDICTIONS_FILE, tallySavedPredictions }, { ScoreTally }] = await Promise.all([
      import('./predictions-file.js'),
      import('./score.js'),
    ]);
    const tally = new ScoreTally(prepared.samples.map((sample) => sample.subset));
    await tallySavedPredictions(join(evalDir, PREDICTIONS_FILE), prepared.samples, tally);
    return tally.metrics();
  },
  async run(prepared, endpoint, ctx) {
    const spec = specOf(prepared.spec, 'native');
    const { samples } = prepared;
    ctx.display.evalStart(spec.name, samples.length);
    const { runNative } = await import('./runner.js');
    return runNative(nativeTaskOf(spec), samples, endpoint, {
      evalDir: ctx.evalDir,
      signal: ctx.signal,
      resume: ctx.resume,
      mask: ctx.mask,
      onProgress: ({ done, correct }) => ctx.display.evalProgress(done, correct),
    });
  },
};
