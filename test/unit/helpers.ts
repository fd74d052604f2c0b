import type { PreflightInput } from '../../src/host/checks/types.js';
import { ServerSchema } from '../../src/plan/schema.js';
import { localHostNeeds } from '../../src/server/local/host-needs.js';

/**
 * What `vllm serve` gets after the model for the tutorial server (served as Qwen3-8B, 8192 tokens, the qwen3
 * reasoning parser) on port 8000, whether it runs natively or in a container.
 */
export function tutorialServeFlags(host: string): string[] {
  return [
    '--host',
    host,
    '--port',
    '8000',
    '--served-model-name',
    'Qwen3-8B',
    '--max-model-len',
    '8192',
    '--reasoning-parser',
    'qwen3',
  ];
}

/** The preflight input of a plain local plan (port auto, no pin, no parser, no EvalScope), with overrides. */
export function preflightInput(overrides: Partial<PreflightInput> = {}): PreflightInput {
  return {
    needs: localHostNeeds(ServerSchema.parse({ model: 'Qwen/Qwen3-8B' }), {}),
    absentIs: 'error',
    executable: 'vllm',
    python: null,
    model: 'Qwen/Qwen3-8B',
    host: '127.0.0.1',
    port: 'auto',
    gpuMemoryUtilization: 0.9,
    tensorParallelSize: 1,
    vllmVersionPin: null,
    reasoningParser: null,
    extraArgs: [],
    outputDir: '/data/outputs',
    needsEvalscope: false,
    env: {},
    baseDir: '/plans',
    otherRuns: [],
    ...overrides,
  };
}
