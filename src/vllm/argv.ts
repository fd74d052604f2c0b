import type { ServerSpec } from '../plan/schema.js';

/** What the argv needs beyond the plan: the port actually chosen and the flags rendered for the vLLM version. */
export interface ServeArgsInput {
  port: number;
  /** Bind address inside the server's network namespace (Docker binds 0.0.0.0 inside the container). */
  host: string;
  /** Model reference as the server will see it (a container path for Docker). */
  model: string;
  /** Reasoning flags for the detected vLLM version (see vllm-version.ts); default: `--reasoning-parser X`. */
  reasoningFlags?: string[];
}

/**
 * Engine flags shared by every way of starting vLLM (everything after the model), built from the plan.
 * Pure: the same plan and input give the same argv.
 */
export function buildEngineFlags(server: ServerSpec, input: ServeArgsInput): string[] {
  const flags: string[] = ['--host', input.host, '--port', String(input.port)];
  if (server.served_model_name) flags.push('--served-model-name', server.served_model_name);
  if (server.max_model_len !== undefined) flags.push('--max-model-len', String(server.max_model_len));
  const reasoningFlags =
    input.reasoningFlags ?? (server.reasoning_parser ? ['--reasoning-parser', server.reasoning_parser] : []);
  flags.push(...reasoningFlags);
  const numeric: [string, number | undefined][] = [
    ['--tensor-parallel-size', server.tensor_parallel_size],
    ['--pipeline-parallel-size', server.pipeline_parallel_size],
    ['--data-parallel-size', server.data_parallel_size],
    ['--gpu-memory-utilization', server.gpu_memory_utilization],
    ['--max-num-seqs', server.max_num_seqs],
    ['--seed', server.seed],
  ];
  for (const [flag, value] of numeric) if (value !== undefined) flags.push(flag, String(value));
  if (server.dtype) flags.push('--dtype', server.dtype);
  if (server.quantization) flags.push('--quantization', server.quantization);
  if (server.generation_config) flags.push('--generation-config', server.generation_config);
  if (server.enforce_eager) flags.push('--enforce-eager');
  // Prefix caching is on by default in the V1 engine, so only "false" needs saying.
  if (server.enable_prefix_caching === true) flags.push('--enable-prefix-caching');
  if (server.enable_prefix_caching === false) flags.push('--no-enable-prefix-caching');
  flags.push(...server.extra_args);
  return flags;
}

/** Environment the server process needs from the plan (GPU selection on top of the plan's env). */
export function buildServerEnv(server: ServerSpec): Record<string, string> {
  const env = { ...server.env };
  // The key goes through the environment, not --api-key: command lines are world-readable (ps, /proc).
  // vLLM reads VLLM_API_KEY in every version that has --api-key (docs/vllm-versions.md §4.4).
  if (server.api_key) env.VLLM_API_KEY = server.api_key;
  const devices = server.cuda_visible_devices;
  if (devices !== undefined)
    env.CUDA_VISIBLE_DEVICES = Array.isArray(devices) ? devices.join(',') : String(devices);
  return env;
}

/** `vllm serve MODEL ...flags`, as the local runtime runs it. */
export function buildServeArgv(server: ServerSpec, input: ServeArgsInput): string[] {
  return ['serve', input.model, ...buildEngineFlags(server, input)];
}
