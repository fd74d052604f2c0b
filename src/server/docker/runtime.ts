import { parseVersion } from '../../util/pep440.js';
import { detectVllmVersion } from '../../vllm/detect.js';
import type { ServerRuntime } from '../runtime.js';
import { dockerHostNeeds } from './host-needs.js';
import { dockerLeftovers } from './leftovers.js';
import { describeDockerServer, startDockerServer } from './start.js';

/** The vLLM version a Docker image tag names, e.g. vllm/vllm-openai:v0.11.0 → 0.11.0. */
function versionFromImage(image: string | undefined): ReturnType<typeof parseVersion> {
  const tag = image?.split(':').at(-1);
  return tag ? parseVersion(tag.replace(/^v/, '')) : null;
}

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
  start: (serve, ctx) =>
    startDockerServer(
      serve.server,
      { ...ctx, reasoningFlags: serve.reasoningFlags },
      {
        ...(ctx.planName === undefined ? {} : { planName: ctx.planName }),
        ...(ctx.warn === undefined ? {} : { warn: ctx.warn }),
      },
    ),
  leftovers: dockerLeftovers,
};
