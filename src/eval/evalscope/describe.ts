import type { EvalScopeEvalSpec } from '../../plan/schema.js';
import { parseVersion, type Version } from '../../util/pep440.js';
import type { EvalDescription, ResolveContext, ResolvedEval } from '../evaluator.js';
import { executableParts, renderEvalScopeCommand, showEvalScopeCommand } from './argv.js';
import { EvalScopeError } from './failures.js';
import { commandLines } from './rules.js';
import { findEvalScopeVersion } from './version.js';

/** A dry run has no server yet: the command shows where the run fills in the endpoint and the folder. */
const NO_ENDPOINT = { baseUrl: '<server>/v1', apiKey: '<key>', servedModel: '<served model>' };
const NO_WORK_DIR = '<evals/<name>/evalscope-output>';

function commandFor(spec: EvalScopeEvalSpec, version: Version): string {
  return showEvalScopeCommand(renderEvalScopeCommand(spec, version, NO_ENDPOINT, NO_WORK_DIR));
}

/**
 * The command for the eval's version; with none (not pinned, not found), one command per distinct command line,
 * since the version decides the arguments.
 */
export function describeEvalScope(spec: EvalScopeEvalSpec): EvalDescription {
  const version = spec.version === undefined ? null : parseVersion(spec.version);
  const lines = version
    ? [`command: ${commandFor(spec, version)}`]
    : [
        'command: depends on the EvalScope version, which is unknown',
        ...commandLines().map(
          ({ releases, version: example }) => `${releases}: ${commandFor(spec, example)}`,
        ),
      ];
  return { dataset: spec.datasets.join(','), metric: 'mean_acc', lines };
}

/**
 * The installed version asked the way the run asks it, so that a dry run shows the very command the run would
 * start; where it cannot be found, why and what to do, and the spec as it is.
 */
export async function resolveEvalScope(spec: EvalScopeEvalSpec, ctx: ResolveContext): Promise<ResolvedEval> {
  if (spec.version !== undefined) return { spec, notes: [] };
  try {
    const { version, source } = await findEvalScopeVersion(spec, { signal: ctx.signal });
    const how =
      source === '--version'
        ? `${executableParts(spec).join(' ')} --version`
        : "its Python's package metadata";
    return { spec: { ...spec, version: version.raw }, notes: [`EvalScope ${version.raw} found by ${how}`] };
  } catch (error) {
    if (!(error instanceof EvalScopeError)) throw error;
    const [why = error.message] = error.message.split('\n');
    return {
      spec,
      notes: [
        `the EvalScope version is unknown: ${why}`,
        "fix: install EvalScope where the eval's `executable` points (pip install evalscope), or pin the eval's `version:` (e.g. 0.17.1 or 1.0.0)",
      ],
    };
  }
}
