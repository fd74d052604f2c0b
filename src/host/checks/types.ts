import type { HostNeeds } from '../../util/host-needs.js';
import type { PortProbe } from '../../util/ports.js';
import type { VllmDetection } from '../../vllm/detect.js';
import type { GpuQueryResult } from '../nvidia-smi.js';

export type CheckStatus = 'ok' | 'warning' | 'error' | 'skipped';

export interface CheckResult {
  /** Stable, for scripts reading `--json`: `gpus`, `driver`, `gpu-memory:0`, `vllm`, `model`, … */
  id: string;
  title: string;
  /** `skipped`: does not apply to this plan (simulator, external endpoint, nothing to measure). */
  status: CheckStatus;
  detail: string;
  /** What to do, in one line; null when there is nothing to do. */
  fix: string | null;
}

/** What the checks need from a plan, with the defaults vLLM and evalrig apply. */
export interface PreflightInput {
  /** What the plan's server runtime needs from this host. */
  needs: HostNeeds;
  /**
   * What a missing GPU or vLLM is: an `error` for a plan, which needs them; a `warning` for `evalrig doctor`
   * without a plan, which needs nothing but lists what a plan may need (EvalScope too) with general advice.
   */
  absentIs: 'warning' | 'error';
  /** `server.executable` as written (a command on PATH, or a path relative to `baseDir`). */
  executable: string;
  /** `server.python`: the interpreter of vLLM's environment, for version detection. */
  python: string | null;
  model: string | null;
  host: string;
  port: number | 'auto';
  /** vLLM's `--gpu-memory-utilization`, default 0.9. */
  gpuMemoryUtilization: number;
  tensorParallelSize: number;
  vllmVersionPin: string | null;
  /** `server.reasoning_parser` and `server.extra_args`, to check them against the vLLM version. */
  reasoningParser: string | null;
  extraArgs: string[];
  /** Absolute; null when there is nothing to write (no plan). */
  outputDir: string | null;
  needsEvalscope: boolean;
  /** `server.env`: what the server gets on top of our environment. */
  env: Record<string, string>;
  /** The plan folder (relative paths resolve against it), or the working directory. */
  baseDir: string;
  /** vLLM servers of other evalrig runs live on this host now, as the runtime's records show them. */
  otherRuns: OtherRun[];
}

export interface OtherRun {
  /** e.g. `process group 4242`. */
  name: string;
  detail: string;
  /** Its GPUs, CUDA_VISIBLE_DEVICES style; null or absent: all of them, or unknown. */
  gpus?: string | null;
}

export type ModelFacts =
  | { kind: 'hub'; reference: string }
  | {
      kind: 'local';
      reference: string;
      path: string;
      exists: boolean;
      isDirectory: boolean;
      hasConfig: boolean;
      /** The files vLLM would load: `*.safetensors`, or `*.bin` when there is no safetensors file. */
      weightFiles: number;
      weightBytes: number;
    };

export type PortFacts = PortProbe;

export interface DiskFacts {
  /** The output folder, or its nearest existing parent (what `statfs` measured). */
  path: string;
  availableBytes: number | null;
  error: string | null;
  /** Why evalrig could not write there (permission, a read-only file system); null when it can. */
  notWritable?: string | null;
}

export interface ToolFacts {
  command: string;
  found: boolean;
  version: string | null;
  detail: string;
}

export interface HostFacts {
  /** The executable that would run is evalrig's vLLM simulator (rule: `isSimulatorExecutable` in facts.ts). */
  simulator: boolean;
  /** null when this host's GPUs do not matter: simulator, or a runtime that uses none of them. */
  gpu: GpuQueryResult | null;
  /** null when vLLM does not run on this host. Detected without the pin, so a wrong pin shows. */
  vllm: VllmDetection | null;
  /** null when not probed: the plan preflight asks only when an eval needs EvalScope; `evalrig doctor` always asks. */
  evalscope: ToolFacts | null;
  /** null when not probed: no Python program of this plan runs on this host (the simulator, no EvalScope evals). */
  python: ToolFacts | null;
  model: ModelFacts | null;
  port: PortFacts | null;
  disk: DiskFacts | null;
}
