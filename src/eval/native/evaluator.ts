import { resolve } from 'node:path';
import { loadIquiz } from '../../datasets/iquiz.js';
import type { Evaluator } from '../evaluator.js';
import { runNative } from './runner.js';

/** Our own evaluator: IQuiz prompts through the openai client, scored as EvalScope scores them. */
export const nativeEvaluator: Evaluator = {
  backend: 'native',
  async run(spec, endpoint, ctx) {
    const dataset = await loadIquiz(resolve(ctx.planDir, spec.dataset_path), { subsets: spec.subsets, limit: spec.limit });
    for (const problem of dataset.problems) ctx.display.warn(`${spec.name}: skipped ${problem}`);
    if (dataset.samples.length === 0) throw new Error(`${spec.name}: the dataset has no usable samples (${spec.dataset_path})`);
    ctx.display.evalStart(spec.name, dataset.samples.length);
    let correct = 0;
    return runNative(spec, dataset.samples, endpoint, {
      evalDir: ctx.evalDir,
      signal: ctx.signal,
      onProgress: (done, _total, record) => {
        if (record.correct) correct++;
        ctx.display.evalProgress(done, correct);
      },
    });
  },
};
