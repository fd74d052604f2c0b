import type { ServerSpec } from '../../plan/schema.js';
import type { HostNeeds } from '../../util/host-needs.js';
import { buildServerEnv } from '../../vllm/argv.js';

/**
 * vLLM as a process of this host: it sees the GPUs of its CUDA_VISIBLE_DEVICES, which is `cuda_visible_devices`,
 * else `server.env`'s, else ours (the server inherits our environment).
 */
export function localHostNeeds(
  server: ServerSpec,
  env: Readonly<Record<string, string | undefined>>,
): HostNeeds {
  const selection = buildServerEnv(server)['CUDA_VISIBLE_DEVICES'] ?? env['CUDA_VISIBLE_DEVICES'] ?? null;
  return { gpus: { selection }, vllm: 'this-host', modelOnHost: true, portOnHost: true };
}
