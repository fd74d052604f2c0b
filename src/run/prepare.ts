import { UserError } from '../errors.js';
import type { LoadedPlan } from '../plan/load.js';
import { runtimeFor } from '../server/registry.js';
import type { ServePlan } from '../server/runtime.js';
import { formatVersion } from '../util/pep440.js';
import { renderVersionedServeFlags } from '../vllm/flags.js';

/**
 * Find the vLLM version the runtime's way and render the flags it takes; a flag it would reject stops here
 * (exit 2), before anything starts. `plan --dry-run`, `validate` and the run all go through this.
 */
export async function prepareServe(loaded: LoadedPlan, signal?: AbortSignal): Promise<ServePlan> {
  const { server } = loaded.plan;
  const runtime = runtimeFor(server);
  const { version, source, detection } = await runtime.findVersion(server, {
    planDir: loaded.dir,
    planName: loaded.plan.name,
    signal,
  });
  if (!runtime.launches) {
    return { server, reasoningFlags: [], version: null, versionSource: source, notices: [] };
  }
  const rendered = renderVersionedServeFlags({
    reasoningParser: server.reasoning_parser,
    extraArgs: server.extra_args,
    version,
  });
  if (rendered.errors.length > 0) {
    throw new UserError(
      `The plan's server flags do not suit vLLM ${formatVersion(version)} (${source}):\n${rendered.errors.map((e) => `  - ${e}`).join('\n')}`,
    );
  }
  return {
    server: { ...server, extra_args: rendered.extraArgs },
    reasoningFlags: rendered.reasoningFlags,
    version,
    versionSource: source,
    ...(detection === undefined ? {} : { detection }),
    notices: rendered.notices,
  };
}
