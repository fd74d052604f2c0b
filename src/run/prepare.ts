import { UserError } from '../errors.js';
import type { LoadedPlan } from '../plan/load.js';
import type { ServerSpec } from '../plan/schema.js';
import { resolveExecutable } from '../util/executable.js';
import { buildServeArgv, buildServerEnv, maskArgv } from '../vllm/argv.js';
import { detectVllmVersion, type VllmDetection } from '../vllm/detect.js';
import { formatVersion, parseVersion, type Version } from '../util/pep440.js';
import { renderVersionedServeFlags } from '../vllm/flags.js';

/** What will be started, decided before anything starts: shown by --dry-run, used by the run. */
export interface ServePlan {
  /** The server spec with extra_args rendered for the detected vLLM version. */
  server: ServerSpec;
  reasoningFlags: string[];
  version: Version | null;
  versionSource: string;
  /** The whole detection, so the preflight need not start vLLM again to ask it. */
  detection?: VllmDetection;
  notices: string[];
}

/** The vLLM version a Docker image tag names, e.g. vllm/vllm-openai:v0.11.0 → 0.11.0. */
function versionFromImage(image: string | undefined): Version | null {
  const tag = image?.split(':').at(-1);
  return tag ? parseVersion(tag.replace(/^v/, '')) : null;
}

async function detect(
  loaded: LoadedPlan,
): Promise<{ version: Version | null; source: string; detection?: VllmDetection }> {
  const { server } = loaded.plan;
  if (server.runtime === 'external')
    return { version: null, source: 'external endpoint: read from /version once ready' };
  if (server.runtime === 'docker' && !server.vllm_version) {
    const version = versionFromImage(server.docker?.image);
    return {
      version,
      source: version
        ? `from the image tag ${server.docker?.image}`
        : `image tag of ${server.docker?.image} names no version`,
    };
  }
  const detection = await detectVllmVersion({
    executable: resolveExecutable(server.executable, loaded.dir),
    python: server.python,
    pinned: server.vllm_version,
    env: { ...process.env, ...buildServerEnv(server) },
    cwd: loaded.dir,
  });
  return { version: detection.version, source: detection.detail, detection };
}

/** Find the vLLM version and render the flags it takes; a flag it would reject stops the run here (exit 2). */
export async function prepareServe(loaded: LoadedPlan): Promise<ServePlan> {
  const { server } = loaded.plan;
  const { version, source, detection } = await detect(loaded);
  if (server.runtime === 'external') {
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
    detection,
    notices: rendered.notices,
  };
}

/** The `vllm serve` command line as --dry-run and the manifest show it (secrets masked). */
export function displayServeArgv(loaded: LoadedPlan, serve: ServePlan, port: number | string): string[] {
  const { server } = serve;
  const argv = buildServeArgv(server, {
    port: typeof port === 'number' ? port : 0,
    host: server.host,
    model: server.model ?? '',
    reasoningFlags: serve.reasoningFlags,
  }).map((arg, i, all) => (all[i - 1] === '--port' && typeof port === 'string' ? `<${port}>` : arg));
  return [resolveExecutable(server.executable, loaded.dir), ...maskArgv(argv)];
}
