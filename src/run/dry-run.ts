import type { LoadedPlan } from '../plan/load.js';
import { secretMasker } from '../plan/secrets.js';
import { runtimeFor } from '../server/registry.js';
import type { ServePlan } from '../server/runtime.js';
import { formatVersion } from '../util/pep440.js';
import { evaluatorFor } from '../eval/registry.js';

/** Everything --dry-run shows: what would start, with which environment, and what would be evaluated. */
export function dryRunText(loaded: LoadedPlan, serve: ServePlan): string {
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
  for (const spec of loaded.plan.evals) {
    const [first = '', ...rest] = evaluatorFor(spec).describe(spec).lines;
    lines.push(`  - ${spec.name}: backend ${spec.backend}, ${first}`, ...rest.map((line) => `    ${line}`));
  }
  return secretMasker(loaded.secrets)(lines.join('\n'));
}
