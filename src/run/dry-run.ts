import type { ResolvedEval } from '../eval/evaluator.js';
import { evaluatorFor } from '../eval/registry.js';
import type { LoadedPlan } from '../plan/load.js';
import { matrixLayout, type EvalSpec, type Matrix } from '../plan/schema.js';
import { secretMasker } from '../plan/secrets.js';
import { runtimeFor } from '../server/registry.js';
import type { ServePlan } from '../server/runtime.js';
import { abortable } from '../util/abortable.js';
import { formatVersion } from '../util/pep440.js';

/**
 * Each evaluation with what its evaluator finds on this host (the installed EvalScope's version), as the dry run
 * and `validate` show it. A lookup that ignored the signal would still not hold up a Ctrl-C.
 */
export async function resolveEvals(specs: readonly EvalSpec[], signal: AbortSignal): Promise<ResolvedEval[]> {
  const resolved: ResolvedEval[] = [];
  for (const spec of specs) {
    const evaluator = evaluatorFor(spec);
    const lookup = evaluator.resolve?.(spec, { signal });
    resolved.push(lookup ? await abortable(lookup, signal) : { spec, notes: [] });
  }
  return resolved;
}

/** The dry run's first word on a matrix: how many variants, and how many of them would run at once. */
export function matrixDryRunLine(matrix: Matrix): string {
  const { variants, maxParallel } = matrixLayout(matrix);
  const count = `${variants.length} variant${variants.length === 1 ? '' : 's'}`;
  const atOnce =
    maxParallel > 1 && variants.length > 1
      ? `up to ${Math.min(maxParallel, variants.length)} at once`
      : 'one at a time';
  return `matrix: ${count}, ${atOnce} (max_parallel: ${maxParallel})`;
}

/** Everything --dry-run shows: what would start, with which environment, and what would be evaluated. */
export async function dryRunText(loaded: LoadedPlan, serve: ServePlan, signal: AbortSignal): Promise<string> {
  const runtime = runtimeFor(serve.server);
  const { server } = serve;
  const lines = [`Plan ${loaded.plan.name} (${loaded.file}), dry run: nothing is started.`, ''];
  if (runtime.launches) {
    lines.push(`vLLM version: ${formatVersion(serve.version)} (${serve.versionSource})`);
    for (const notice of serve.notices) lines.push(`notice: ${notice}`);
    lines.push(`runtime: ${runtime.name}`);
  }
  lines.push(...runtime.describe(serve, { planDir: loaded.dir, planName: loaded.plan.name }));
  if (runtime.launches)
    lines.push(`startup_timeout: ${server.startup_timeout} s, stop_timeout: ${server.stop_timeout} s`);
  lines.push('', 'evaluations:');
  for (const { spec, notes } of await resolveEvals(loaded.plan.evals, signal)) {
    const [first = '', ...rest] = evaluatorFor(spec).describe(spec).lines;
    const more = [...notes.map((note) => `note: ${note}`), ...rest];
    lines.push(`  - ${spec.name}: backend ${spec.backend}, ${first}`, ...more.map((line) => `    ${line}`));
  }
  return secretMasker(loaded.secrets)(lines.join('\n'));
}
