import { parseVersion, type Version } from '../../util/pep440.js';
import { specOf, type Evaluator, type PreparedEval } from '../evaluator.js';
import { renderEvalScopeCommand, showEvalScopeCommand } from './argv.js';
import { runEvalScope } from './run.js';
import { findEvalScopeVersion } from './version.js';

/** The version found while preparing, so that the run does not ask EvalScope a second time. */
const versions = new WeakMap<PreparedEval, Version>();

/** EvalScope's own CLI on the server evalrig started, the command rendered for the version installed. */
export const evalscopeEvaluator: Evaluator = {
  backend: 'evalscope',
  describe(evalSpec) {
    const spec = specOf(evalSpec, 'evalscope');
    const pinned = spec.version === undefined ? null : parseVersion(spec.version);
    const command = pinned
      ? showEvalScopeCommand(
          renderEvalScopeCommand(
            spec,
            pinned,
            { baseUrl: '<server>/v1', apiKey: '<key>', servedModel: '<served model>' },
            '<evals/<name>/evalscope-output>',
          ),
        )
      : `evalscope ${spec.datasets.join(' ')} (the command is rendered for the version found at run time; pin version: to see it)`;
    return { dataset: spec.datasets.join(','), metric: 'mean_acc', lines: [`command: ${command}`] };
  },
  async prepare(evalSpec, ctx) {
    const spec = specOf(evalSpec, 'evalscope');
    // Before the server starts: EvalScope missing costs no GPU time.
    const { version } = await findEvalScopeVersion(spec, ctx.signal);
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
    const version = versions.get(prepared) ?? (await findEvalScopeVersion(spec, ctx.signal)).version;
    return runEvalScope(spec, version, endpoint, ctx);
  },
};
