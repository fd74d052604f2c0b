import { parseVersion } from '../../util/pep440.js';
import { detectVllmVersion } from '../../vllm/detect.js';
import type { LeftoverSource, ServerRuntime } from '../runtime.js';
import { describeDockerServer } from './describe.js';
import { engineAddress, engineConfigured } from './engine.js';
import { dockerHostNeeds } from './host-needs.js';

/** The vLLM version a Docker image tag names, e.g. vllm/vllm-openai:v0.11.0 → 0.11.0. */
function versionFromImage(image: string | undefined): ReturnType<typeof parseVersion> {
  const tag = image?.split(':').at(-1);
  return tag ? parseVersion(tag.replace(/^v/, '')) : null;
}

/** Containers are searched through the engine's client, which loads only when a search is made. */
const dockerLeftovers: LeftoverSource = {
  get label() {
    return `evalrig containers on ${engineAddress()}`;
  },
  available: engineConfigured,
  find: async () => (await import('./leftovers.js')).findLeftoverContainers(),
};

/** vLLM in a container of the engine DOCKER_HOST names, removed on every path. */
export const dockerRuntime: ServerRuntime = {
  name: 'docker',
  launches: true,
  async findVersion(server) {
    if (server.vllm_version) {
      // A pin is taken as it is: nothing runs.
      const detection = await detectVllmVersion({ executable: 'vllm', pinned: server.vllm_version });
      return { version: detection.version, source: detection.detail, detection };
    }
    const image = server.docker?.image;
    const version = versionFromImage(image);
    return {
      version,
      source: version ? `from the image tag ${image}` : `image tag of ${image} names no version`,
    };
  },
  describe(serve, ctx) {
    return [
      describeDockerServer(serve.server, {
        planDir: ctx.planDir,
        planName: ctx.planName,
        runId: 'dry-run',
        reasoningFlags: serve.reasoningFlags,
      }),
    ];
  },
  hostNeeds: dockerHostNeeds,
  async preload() {
    await import('./start.js');
  },
  async start(serve, ctx) {
    const { startDockerServer } = await import('./start.js');
    return startDockerServer(
      serve.server,
      { ...ctx, reasoningFlags: serve.reasoningFlags },
      {
        ...(ctx.planName === undefined ? {} : { planName: ctx.planName }),
        ...(ctx.warn === undefined ? {} : { warn: ctx.warn }),
      },
    );
  },
  leftovers: dockerLeftovers,
};
