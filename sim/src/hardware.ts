// The simulated GPU and what the model takes of it. Only the KV-cache size has an effect (the
// `/metrics` KV usage and the start-up capacity lines); the rest feeds plausible log numbers.

/** What torch reports as the total memory of an 80 GB H100. */
export const GPU_TOTAL_GIB = 79.19;
const ACTIVATION_PEAK_GIB = 1.5;
const BLOCK_SIZE = 16;
/** Qwen3-8B: 36 layers × 8 KV heads × 128 dims × (K+V) × 2 bytes. */
const KV_BYTES_PER_TOKEN_8B = 147_456;
const DEFAULT_PARAMS_B = 8.19;

export interface MemoryPlan {
  readonly weightsGiB: number;
  /** Memory left for the KV cache; ≤ 0 means none. */
  readonly kvGiB: number;
  readonly kvTokens: number;
  /** KV memory one request of max_model_len needs. */
  readonly neededGiB: number;
  readonly maxConcurrency: number;
}

export interface PlanInput {
  readonly model: string;
  readonly gpuMemoryUtilization: number;
  readonly tensorParallelSize: number;
  readonly pipelineParallelSize: number;
  readonly quantization: string | null;
  readonly maxModelLen: number;
}

/** Parameter count from the model name (`Qwen3-8B` → 8), else Qwen3-8B's. */
function paramsBillions(model: string): number {
  const m = /(\d+(?:\.\d+)?)[bB](?![a-zA-Z])/.exec(model.split('/').pop() ?? model);
  return m ? Number(m[1]) : DEFAULT_PARAMS_B;
}

export function memoryPlan(input: PlanInput): MemoryPlan {
  const shards = Math.max(1, input.tensorParallelSize * input.pipelineParallelSize);
  const params = paramsBillions(input.model);
  const bytesPerParam = input.quantization === null ? 2 : /fp8/i.test(input.quantization) ? 1.05 : 0.55;
  const usable = GPU_TOTAL_GIB * input.gpuMemoryUtilization;
  // Capped so that a large model never fails by itself: load failures are opt-in faults.
  const weightsGiB = Math.min((params * 1e9 * bytesPerParam) / 2 ** 30 / shards, usable * 0.6);
  const kvGiB = usable - weightsGiB - ACTIVATION_PEAK_GIB;
  const perToken = (KV_BYTES_PER_TOKEN_8B * Math.sqrt(Math.max(params, 0.5) / DEFAULT_PARAMS_B)) / shards;
  const kvTokens = kvGiB > 0 ? Math.floor((kvGiB * 2 ** 30) / perToken / BLOCK_SIZE) * BLOCK_SIZE : 0;
  return {
    weightsGiB,
    kvGiB,
    kvTokens,
    neededGiB: (input.maxModelLen * perToken) / 2 ** 30,
    maxConcurrency: kvTokens / input.maxModelLen,
  };
}
