import type { Version } from '../../util/pep440.js';
import { specOf, type Evaluator, type PreparedEval } from '../evaluator.js';
import { describeEvalScope, resolveEvalScope } from './describe.js';
import { evalscopeProgress } from './resume.js';
import { findEvalScopeVersion } from './version.js';

/** The version found while preparing, so that the run does not ask EvalScope a second time. */
const versions = new WeakMap<PreparedEval, Version>();

/** EvalScope's own CLI on the server evalrig started, the command rendered for the version installed. */
export const evalscopeEvaluator: Evaluator = {
  backend: 'evalscope',
  describe(evalSpec) {
    return describeEvalScope(specOf(evalSpec, 'evalscope'));
  },
  resolve(evalSpec, ctx) {
    return resolveEvalScope(specOf(evalSpec, 'evalscope'), ctx);
  },
  async prepare(evalSpec, ctx) {
    const spec = specOf(evalSpec, 'evalscope');
    // Before the server starts: EvalScope missing costs no GPU time.
    const { version } = await findEvalScopeVersion(spec, { signal: ctx.signal });
    const prepared: PreparedEval = {
      spec,
      samples: [],
      provenance: { name: `evalscope ${version.raw}: ${spec.datasets.join(', ')}`, files: [] },
      problems: [],
    };
    versions.set(prepared, version);
    return prepared;
  },
  async run(prepared, endpoint, ctx) {
    const spec = specOf(prepared.spec, 'evalscope');
    const version =
      versions.get(prepared) ?? (await findEvalScopeVersion(spec, { signal: ctx.signal })).version;
    const { runEvalScope } = await import('./run.js');
    return runEvalScope(spec, version, endpoint, ctx);
  },
  progress(prepared, evalDir) {
    const spec = specOf(prepared.spec, 'evalscope');
    const version = versions.get(prepared);
    // Prepared always finds the version; without it nothing is known of what a resume would reuse.
    if (!version) return { done: null, total: null, resume: 'a resume runs it from its start' };
    return evalscopeProgress(evalDir, version, spec.datasets);
  },
};
