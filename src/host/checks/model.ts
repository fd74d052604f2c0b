import { usedGpus } from './gpus.js';
import { ok, skipped } from './results.js';
import { gib, MIB } from './sizes.js';
import type { CheckResult, HostFacts, PreflightInput } from './types.js';

export function checkModel(input: PreflightInput, facts: HostFacts): CheckResult | null {
  const model = facts.model;
  if (!input.needs.modelOnHost || model === null) return null;
  const title = 'Model';
  // The simulator only echoes the model name; it reads no weights.
  if (facts.simulator) return skipped('model', title, 'not applicable: the vLLM simulator reads no weights');
  if (model.kind === 'hub') {
    return ok(
      'model',
      title,
      `${model.reference}: a hub id, downloaded by vLLM at start if not cached (not checked)`,
    );
  }
  if (!model.exists) {
    return {
      id: 'model',
      title,
      status: 'error',
      detail: `${model.path} does not exist`,
      fix: 'Fix server.model (relative paths start at the plan folder), or download the model there first.',
    };
  }
  if (!model.isDirectory || !model.hasConfig) {
    return {
      id: 'model',
      title,
      status: 'error',
      detail: `${model.path} ${model.isDirectory ? 'has no config.json' : 'is not a folder'}: not a Hugging Face model folder`,
      fix: 'Point server.model at the folder that holds config.json and the weight files.',
    };
  }
  if (model.weightFiles === 0) {
    return {
      id: 'model',
      title,
      status: 'error',
      detail: `${model.path} has config.json but no *.safetensors or *.bin weights (an unfinished download?)`,
      fix: 'Finish the download (modelscope download / huggingface-cli download) into that folder.',
    };
  }
  return ok(
    'model',
    title,
    `${model.path}: config.json and ${model.weightFiles} weight file(s), ${gib(model.weightBytes)}`,
  );
}

/** Above this share of vLLM's budget, the weights leave too little for the KV cache. */
const WEIGHTS_WARNING_SHARE = 0.8;

export function checkWeights(input: PreflightInput, facts: HostFacts): CheckResult | null {
  const model = facts.model;
  if (!input.needs.modelOnHost || model?.kind !== 'local' || !model.exists || model.weightFiles === 0)
    return null;
  const title = 'Weights vs GPU memory';
  const gpu = facts.gpu;
  const used = gpu?.ok ? usedGpus(input, gpu.gpus) : [];
  const totals = used.map((g) => g.memoryTotalMiB).filter((t): t is number => t !== null);
  if (totals.length === 0) return skipped('weights', title, 'no GPU memory figures to compare with');
  const tp = input.tensorParallelSize;
  const perGpu = model.weightBytes / tp;
  const budget = input.gpuMemoryUtilization * Math.min(...totals) * MIB;
  const shown = `${gib(model.weightBytes)} of weights${tp > 1 ? ` / ${tp} GPUs = ${gib(perGpu)} each` : ''}; vLLM's budget per GPU ${input.gpuMemoryUtilization} × total = ${gib(budget)}`;
  if (perGpu > budget) {
    return {
      id: 'weights',
      title,
      status: 'error',
      detail: `${shown}: the weights alone do not fit`,
      fix: 'Use more GPUs (tensor_parallel_size), a quantized model, or raise gpu_memory_utilization if memory is free.',
    };
  }
  if (perGpu > WEIGHTS_WARNING_SHARE * budget) {
    return {
      id: 'weights',
      title,
      status: 'warning',
      detail: `${shown}: ${Math.round((perGpu / budget) * 100)}% of the budget, little left for the KV cache`,
      fix: 'Expect a small context: lower max_model_len, or add GPUs (tensor_parallel_size).',
    };
  }
  return ok('weights', title, shown);
}
