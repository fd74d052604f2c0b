import { isAbsolute, resolve } from 'node:path';
import type { EvalSpec, Plan } from '../plan/schema.js';
import type { HostNeeds } from '../util/host-needs.js';
import { expandHome } from '../util/paths.js';
import { normaliseFlagNames, readFlagValue } from '../vllm/flags.js';
import type { PreflightInput, OtherRun } from './checks/types.js';

const DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;

function positiveNumber(text: string | undefined): number | undefined {
  const number = Number(text);
  return text !== undefined && Number.isFinite(number) && number > 0 ? number : undefined;
}

/**
 * Where a path in the plan points: `~` is the home folder (`home`, else the user's), relative paths start at
 * the plan folder.
 */
export function resolvePlanPath(path: string, baseDir: string, home: string | undefined): string {
  const expanded = expandHome(path, home);
  return isAbsolute(expanded) ? expanded : resolve(baseDir, expanded);
}

/**
 * An EvalScope eval that runs the `evalscope` on PATH: the preflight checks that one. An eval naming its own
 * executable (a virtual environment's) is checked by the evaluator itself, before the server starts.
 */
function runsEvalscopeOnPath(spec: EvalSpec): boolean {
  return spec.backend === 'evalscope' && spec.executable === 'evalscope';
}

/**
 * The plan's settings as the checks need them, with what its runtime needs from this host.
 * `gpu_memory_utilization` and `tensor_parallel_size` may also be given in `extra_args`
 * (`--gpu-memory-utilization 0.8`, `-tp 2`).
 */
export function preflightInputFromPlan(
  plan: Plan,
  planDir: string,
  needs: HostNeeds,
  env: Readonly<Record<string, string | undefined>> = process.env,
  otherRuns: OtherRun[] = [],
): PreflightInput {
  const server = plan.server;
  const extra = normaliseFlagNames(server.extra_args);
  return {
    needs,
    absentIs: 'error',
    executable: server.executable,
    python: server.python ?? null,
    model: server.model ?? null,
    host: server.host,
    port: server.port,
    gpuMemoryUtilization:
      server.gpu_memory_utilization ??
      positiveNumber(readFlagValue(extra, '--gpu-memory-utilization')) ??
      DEFAULT_GPU_MEMORY_UTILIZATION,
    tensorParallelSize: Math.trunc(
      server.tensor_parallel_size ??
        positiveNumber(readFlagValue(extra, '--tensor-parallel-size') ?? readFlagValue(extra, '-tp')) ??
        1,
    ),
    vllmVersionPin: server.vllm_version ?? null,
    reasoningParser: server.reasoning_parser ?? null,
    extraArgs: server.extra_args,
    // Run directories go under the working directory, as `evalrig plan` writes them.
    outputDir: resolvePlanPath(plan.output.dir, process.cwd(), env['HOME']),
    needsEvalscope: plan.evals.some(runsEvalscopeOnPath),
    env: server.env,
    baseDir: planDir,
    otherRuns,
  };
}

/**
 * `evalrig doctor` without a plan: vLLM's defaults, the vLLM on PATH, and our environment's GPU selection. Nothing
 * is needed, so what is missing is only a warning.
 */
export function machinePreflightInput(
  cwd: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): PreflightInput {
  return {
    needs: {
      gpus: { selection: env['CUDA_VISIBLE_DEVICES'] ?? null },
      vllm: 'this-host',
      modelOnHost: false,
      portOnHost: false,
    },
    absentIs: 'warning',
    executable: 'vllm',
    python: null,
    model: null,
    host: '127.0.0.1',
    port: 'auto',
    gpuMemoryUtilization: DEFAULT_GPU_MEMORY_UTILIZATION,
    tensorParallelSize: 1,
    vllmVersionPin: null,
    reasoningParser: null,
    extraArgs: [],
    outputDir: null,
    needsEvalscope: false,
    env: {},
    baseDir: cwd,
    otherRuns: [],
  };
}
