import { randomBytes } from 'node:crypto';
import { UserError } from '../errors.js';
import type { LoadedPlan } from '../plan/load.js';
import { runtimeFor } from '../server/registry.js';
import type { ServePlan, ServerRuntime } from '../server/runtime.js';
import type { ServerSpec } from '../plan/schema.js';
import { formatVersion } from '../util/pep440.js';
import { renderVersionedServeFlags } from '../vllm/flags.js';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1']);

/** A server reachable from other machines (the plan's choice or the runtime's) is worth saying out loud. */
function bindNotices(server: ServerSpec, runtime: ServerRuntime): string[] {
  const forced = runtime.listensOn?.(server);
  const host = forced?.host ?? server.host;
  if (LOOPBACK.has(host)) return [];
  const unguarded = "Its API (/v1) needs the run's key, but /health, /metrics and /version answer anyone";
  return [
    forced
      ? `vLLM listens on ${host} (${forced.why}). ${unguarded} who can reach the node.`
      : `server.host is ${host}: vLLM is reachable from other machines. ${unguarded}; ` +
        'keep 127.0.0.1 unless something else must reach it.',
  ];
}

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
    return { server, reasoningFlags: [], version: null, versionSource: source, notices: [], secrets: [] };
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
  // A key of the run's own unless the plan brings one: a published port then serves nobody else.
  const apiKey = server.api_key ?? `evalrig-${randomBytes(24).toString('base64url')}`;
  return {
    server: { ...server, extra_args: rendered.extraArgs, api_key: apiKey },
    reasoningFlags: rendered.reasoningFlags,
    version,
    versionSource: source,
    ...(detection === undefined ? {} : { detection }),
    notices: [...rendered.notices, ...bindNotices(server, runtime)],
    secrets: server.api_key === undefined ? [apiKey] : [],
  };
}
