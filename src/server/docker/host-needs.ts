import type { DockerSpec } from '../../plan/docker-schema.js';
import type { ServerSpec } from '../../plan/schema.js';
import type { HostNeeds } from '../../util/host-needs.js';

/**
 * The devices a container gets, as CUDA_VISIBLE_DEVICES would list them: `docker run --gpus` takes all, a count
 * (the first N) or device ids/uuids. The container's own CUDA_VISIBLE_DEVICES (container-relative) is not applied.
 */
function containerDevices(gpus: Exclude<DockerSpec['gpus'], 'none'>): string | null {
  if (gpus === 'all') return null;
  if (typeof gpus === 'number') return Array.from({ length: gpus }, (_, i) => String(i)).join(',');
  return gpus.map(String).join(',');
}

/** vLLM in a container of this host: this host's GPUs and port, but the image's vLLM and model paths. */
export function dockerHostNeeds(server: ServerSpec): HostNeeds {
  const gpus = server.docker?.gpus ?? 'all';
  return {
    gpus:
      gpus === 'none'
        ? { notApplicable: 'docker.gpus is none, the container gets no GPU' }
        : { selection: containerDevices(gpus) },
    vllm: { elsewhere: 'comes from the Docker image; not checked on this host' },
    modelOnHost: false,
    portOnHost: true,
  };
}
