import type { LoadCrash } from './faults.js';

// What the API server process and its EngineCore child say to each other. The start-up
// settings travel in an environment variable so the child knows them from its first line
// (e.g. whether to ignore SIGTERM); IPC messages carry the rest.

export const ENGINE_INIT_ENV = 'VLLM_SIM_ENGINE_INIT';
export const WORKER_RANK_ENV = 'VLLM_SIM_WORKER_RANK';

export interface EngineInit {
  readonly version: string;
  readonly model: string;
  readonly servedName: string;
  readonly maxModelLen: number;
  readonly dtype: string;
  readonly quantization: string | null;
  readonly enforceEager: boolean;
  readonly trustRemoteCode: boolean;
  readonly seed: number | null;
  readonly tensorParallelSize: number;
  readonly pipelineParallelSize: number;
  readonly gpuMemoryUtilization: number;
  /** Epoch ms at which the engine should report ready. */
  readonly readyAt: number;
  readonly crash: Exclude<LoadCrash, 'port_in_use'> | null;
  readonly neverReady: boolean;
  readonly ignoreSigterm: boolean;
}

export type ToEngine = { readonly type: 'shutdown' } | { readonly type: 'fail' };
export type FromEngine = { readonly type: 'ready' };

export function readEngineInit(env: NodeJS.ProcessEnv): EngineInit {
  const text = env[ENGINE_INIT_ENV];
  if (!text) throw new Error(`${ENGINE_INIT_ENV} is not set: this file is started by the vllm-sim server`);
  return JSON.parse(text) as EngineInit;
}
