import { z } from 'zod';
import type { ServerProblem } from './server-checks.js';

/**
 * `server.docker`: how `runtime: docker` runs the `vllm/vllm-openai` image (or any image whose entrypoint starts
 * vLLM's OpenAI server and takes engine arguments). Kept apart from schema.ts so the Docker runtime, its options
 * builder and its docs share one definition.
 */

/** Docker's size notation: bytes, or a number with k, m, g or t (binary units, an optional trailing b). */
export const BYTE_SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([kmgt]?)b?$/i;

/** `host:container` or `host:container:ro|rw`, as `docker run -v` writes a bind mount. */
const VOLUME_STRING_PATTERN = /^[^:]+:\/[^:]*(?::(?:ro|rw))?$/;

export const VolumeObjectSchema = z.strictObject({
  host: z
    .string()
    .min(1)
    .describe('Host path; relative paths resolve against the plan file, ~ is the home folder'),
  container: z
    .string()
    .startsWith('/', 'the container path must be absolute')
    .describe('Path inside the container'),
  read_only: z.boolean().default(false),
});

export const VolumeSchema = z.union([
  z
    .string()
    .regex(
      VOLUME_STRING_PATTERN,
      'write a volume as host:container or host:container:ro (container path absolute)',
    ),
  VolumeObjectSchema,
]);

const gpuDeviceId = z.union([z.int().min(0), z.string().min(1)]);

export const DockerSpecSchema = z
  .strictObject({
    image: z
      .string()
      .min(1)
      .describe(
        'Image whose entrypoint starts the vLLM OpenAI server, pinned by tag or digest, e.g. vllm/vllm-openai:v0.11.0. ' +
          'A `latest` (or missing) tag is not reproducible: the next pull may bring another vLLM.',
      ),
    pull: z
      .enum(['missing', 'always', 'never'])
      .default('missing')
      .describe(
        'missing: pull only when the image is not local; always: pull before every run; never: local only',
      ),
    gpus: z
      .union([z.literal('all'), z.literal('none'), z.int().positive(), z.array(gpuDeviceId).min(1)])
      .default('all')
      .describe('As `docker run --gpus`: all, a count, a list of device ids or UUIDs, or none'),
    ipc: z
      .enum(['host', 'private'])
      .optional()
      .describe(
        "IPC namespace. Default: host (PyTorch's tensor-parallel workers share memory through /dev/shm), " +
          'or private when shm_size is set',
      ),
    shm_size: z
      .string()
      .regex(BYTE_SIZE_PATTERN, 'write a size like 16g, 512m or 1073741824')
      .optional()
      .describe('Size of /dev/shm with a private IPC namespace, e.g. 16g'),
    volumes: z
      .array(VolumeSchema)
      .default([])
      .describe(
        'Extra bind mounts. The model folder (when server.model is a local path) and the existing Hugging Face, ' +
          'ModelScope and vLLM caches are mounted without being listed here',
      ),
    mount_caches: z
      .boolean()
      .default(true)
      .describe(
        'Mount ~/.cache/huggingface, ~/.cache/modelscope and ~/.cache/vllm (those that exist) at /root/.cache/…, ' +
          'so downloads and torch.compile results are reused between runs',
      ),
    env: z
      .record(z.string(), z.string())
      .default({})
      .describe(
        'Container environment on top of server.env; values of secret-looking names (HF_TOKEN…) are masked',
      ),
    user: z.string().optional().describe('uid[:gid] or name to run as; the caches are mounted under /root'),
    extra_hosts: z
      .array(z.string().regex(/^[^:]+:.+$/, 'write host:ip'))
      .default([])
      .describe('host:ip entries'),
    network: z
      .string()
      .optional()
      .describe(
        'Network to join (default: the bridge network). With `host`, vLLM listens on server.host directly',
      ),
    container_port: z
      .int()
      .min(1)
      .max(65535)
      .default(8000)
      .describe('Port vLLM listens on inside the container'),
    name_prefix: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'use letters, digits, dot, dash or underscore')
      .default('evalrig')
      .describe('Container name: <name_prefix>-<run id>-<evalrig pid>'),
  })
  .superRefine((docker, ctx) => {
    if (docker.ipc === 'host' && docker.shm_size !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['shm_size'],
        message: 'shm_size applies to a private IPC namespace only; drop `ipc: host` or drop shm_size',
      });
    }
  })
  .describe('runtime docker: the container that runs vLLM');

export type DockerSpec = z.output<typeof DockerSpecSchema>;
export type VolumeSpec = z.output<typeof VolumeSchema>;

/** True when the image reference names no tag or digest, or the `latest` tag: a run that is not reproducible. */
export function isUnpinnedImage(image: string): boolean {
  if (image.includes('@')) return false;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  const colon = lastSegment.indexOf(':');
  return colon < 0 || lastSegment.slice(colon + 1) === 'latest';
}

/** What `runtime: docker` needs of `server`: an image to run, and a model for it to serve. */
export function checkDockerServer(server: {
  model?: string | undefined;
  docker?: { image: string } | undefined;
}): ServerProblem[] {
  const problems: ServerProblem[] = [];
  if (!server.docker?.image)
    problems.push({ path: ['docker', 'image'], message: 'runtime docker needs docker.image (a pinned tag)' });
  if (!server.model)
    problems.push({ path: ['model'], message: 'runtime docker needs model (a path or a hub id)' });
  return problems;
}
