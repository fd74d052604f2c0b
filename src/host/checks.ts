import { isAbsolute, resolve } from 'node:path';
import { expandHome } from '../util/paths.js';
import type { EvalSpec, Plan, ServerSpec } from '../plan/schema.js';
import type { PortProbe } from '../util/ports.js';
import { compareVersions, formatVersion, parseVersion, type Version } from '../util/pep440.js';
import { enableReasoningRequired, reasoningFields } from '../vllm/rules.js';
import { normaliseFlagNames, readFlagValue, renderVersionedServeFlags } from '../vllm/flags.js';
import { type VllmDetection } from '../vllm/detect.js';
import { isVllmNamedProcess, type GpuInfo, type GpuProcess, type GpuQueryResult } from './nvidia-smi.js';

/**
 * Host preflight as pure functions: `runChecks(input, facts)` turns what `gatherHostFacts` found into a verdict
 * per concern, each with a one-line fix. No I/O here, so tests feed facts directly.
 */

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
  /** `machine`: `evalrig doctor` without a plan, checking the host in general. */
  mode: 'machine' | 'local' | 'docker' | 'external';
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
  /** As CUDA reads it: indices or `GPU-…` uuids, comma-separated; null when unset (all GPUs). */
  cudaVisibleDevices: string | null;
  vllmVersionPin: string | null;
  /** `server.reasoning_parser` and `server.extra_args`, to check them against the vLLM version. */
  reasoningParser: string | null;
  extraArgs: string[];
  /** Absolute; null when there is nothing to write (machine mode). */
  outputDir: string | null;
  needsEvalscope: boolean;
  /** `server.env`: what the server gets on top of our environment. */
  env: Record<string, string>;
  /** The plan folder (relative paths resolve against it), or the working directory. */
  baseDir: string;
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
  /** null when the GPUs do not matter: simulator or external endpoint. */
  gpu: GpuQueryResult | null;
  /** null for an external endpoint. Detected without the pin, so a wrong pin shows. */
  vllm: VllmDetection | null;
  /** null when not probed: the plan preflight asks only when an eval needs EvalScope; `evalrig doctor` always asks. */
  evalscope: ToolFacts | null;
  python: ToolFacts;
  model: ModelFacts | null;
  port: PortFacts | null;
  disk: DiskFacts | null;
}

const DEFAULT_GPU_MEMORY_UTILIZATION = 0.9;

function positiveNumber(text: string | undefined): number | undefined {
  const number = Number(text);
  return text !== undefined && Number.isFinite(number) && number > 0 ? number : undefined;
}

/**
 * The devices a container gets, as CUDA_VISIBLE_DEVICES would list them: `docker run --gpus` takes all, a count
 * (the first N) or device ids/uuids. The container's own CUDA_VISIBLE_DEVICES (container-relative) is not applied.
 */
function dockerVisibleDevices(gpus: NonNullable<ServerSpec['docker']>['gpus']): string | null {
  if (gpus === 'all') return null;
  if (gpus === 'none') return '';
  if (typeof gpus === 'number') return Array.from({ length: gpus }, (_, i) => String(i)).join(',');
  return gpus.map(String).join(',');
}

function localVisibleDevices(
  server: ServerSpec,
  env: Readonly<Record<string, string | undefined>>,
): string | null {
  const devices = server.cuda_visible_devices;
  if (devices !== undefined) return Array.isArray(devices) ? devices.join(',') : String(devices);
  return server.env['CUDA_VISIBLE_DEVICES'] ?? env['CUDA_VISIBLE_DEVICES'] ?? null;
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
 * Whether an eval with this backend runs EvalScope itself. None does today (every eval is `native`), so no plan
 * needs it and the plan preflight does not probe EvalScope. The parameter is the backend union plus
 * `'evalscope'` (TypeScript rejects comparing `'native'` with `'evalscope'` outright): this compiles now, and is
 * true for those evals with no change here once the plan language gets that backend.
 */
function runsEvalscope(backend: EvalSpec['backend'] | 'evalscope'): boolean {
  return backend === 'evalscope';
}

/**
 * The plan's settings as the checks need them. `gpu_memory_utilization` and `tensor_parallel_size` may also be
 * given in `extra_args` (`--gpu-memory-utilization 0.8`, `-tp 2`); the GPU selection comes from
 * `cuda_visible_devices`, `server.env` or our own environment (the server inherits it), or `docker.gpus`.
 */
export function preflightInputFromPlan(
  plan: Plan,
  planDir: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): PreflightInput {
  const server = plan.server;
  const extra = normaliseFlagNames(server.extra_args);
  return {
    mode: server.runtime,
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
    cudaVisibleDevices:
      server.runtime === 'docker'
        ? dockerVisibleDevices(server.docker?.gpus ?? 'all')
        : localVisibleDevices(server, env),
    vllmVersionPin: server.vllm_version ?? null,
    reasoningParser: server.reasoning_parser ?? null,
    extraArgs: server.extra_args,
    // Run directories go under the working directory, as `evalrig plan` writes them.
    outputDir: resolvePlanPath(plan.output.dir, process.cwd(), env['HOME']),
    needsEvalscope: plan.evals.some((spec) => runsEvalscope(spec.backend)),
    env: server.env,
    baseDir: planDir,
  };
}

/** `evalrig doctor` without a plan: vLLM's defaults, and our environment's GPU selection. */
export function machinePreflightInput(
  cwd: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): PreflightInput {
  return {
    mode: 'machine',
    executable: 'vllm',
    python: null,
    model: null,
    host: '127.0.0.1',
    port: 'auto',
    gpuMemoryUtilization: DEFAULT_GPU_MEMORY_UTILIZATION,
    tensorParallelSize: 1,
    cudaVisibleDevices: env['CUDA_VISIBLE_DEVICES'] ?? null,
    vllmVersionPin: null,
    reasoningParser: null,
    extraArgs: [],
    outputDir: null,
    needsEvalscope: false,
    env: {},
    baseDir: cwd,
  };
}

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

function gib(bytes: number): string {
  return `${(bytes / GIB).toFixed(1)} GiB`;
}

function gibFromMiB(mib: number): string {
  return gib(mib * MIB);
}

function ok(id: string, title: string, detail: string): CheckResult {
  return { id, title, status: 'ok', detail, fix: null };
}

function skipped(id: string, title: string, detail: string): CheckResult {
  return { id, title, status: 'skipped', detail, fix: null };
}

const NO_GPU_ALTERNATIVES =
  'Without a GPU, try the simulator (npm run demo) or evaluate a server that runs elsewhere (server.runtime: external, base_url: …).';

/** Whether GPU facts matter and, when not, why. */
function gpuSkipReason(input: PreflightInput, facts: HostFacts): string | null {
  if (input.mode === 'external') return 'not applicable: runtime external uses a server that runs elsewhere';
  if (facts.simulator) return 'not applicable: the plan runs the vLLM simulator, which needs no GPU';
  if (input.mode === 'docker' && input.cudaVisibleDevices === '')
    return 'not applicable: docker.gpus is none, the container gets no GPU';
  return null;
}

export function checkGpus(input: PreflightInput, facts: HostFacts): CheckResult {
  const title = 'GPUs';
  const skip = gpuSkipReason(input, facts);
  if (skip !== null || facts.gpu === null) return skipped('gpus', title, skip ?? 'not queried');
  const gpu = facts.gpu;
  if (gpu.ok) {
    const names = gpu.gpus.map((g) => `${g.index}: ${g.name}`).join(', ');
    return ok('gpus', title, `${gpu.gpus.length} GPU${gpu.gpus.length === 1 ? '' : 's'} (${names})`);
  }
  const { failure } = gpu;
  // A machine with no NVIDIA GPU at all is fine for the simulator and external endpoints; a broken driver is not.
  const absentStatus = input.mode === 'machine' ? 'warning' : 'error';
  switch (failure.kind) {
    case 'not-installed':
      return {
        id: 'gpus',
        title,
        status: absentStatus,
        detail: `no NVIDIA GPU: ${failure.message} (no NVIDIA driver on this machine)`,
        fix: NO_GPU_ALTERNATIVES,
      };
    case 'no-devices':
      return {
        id: 'gpus',
        title,
        status: absentStatus,
        detail: `no NVIDIA GPU: the driver sees no device (${failure.message})`,
        fix: `In a container, pass the GPUs in (docker run --gpus all). ${NO_GPU_ALTERNATIVES}`,
      };
    case 'driver-not-loaded':
      return {
        id: 'gpus',
        title,
        status: 'error',
        detail: `the NVIDIA driver is not loaded (nvidia-smi exit ${failure.exitCode ?? '?'}): ${failure.message}`,
        fix: 'Load or reinstall the driver (sudo modprobe nvidia; see dmesg | grep -i nvrm); after a kernel update, reinstall the driver or reboot.',
      };
    case 'timeout':
      return {
        id: 'gpus',
        title,
        status: 'error',
        detail: `${failure.message}: the driver may be stuck`,
        fix: 'Check dmesg for Xid errors; a GPU reset or a reboot usually clears a hung driver.',
      };
    case 'failed':
      return {
        id: 'gpus',
        title,
        status: 'error',
        detail: failure.message,
        fix: 'Run nvidia-smi yourself to see the full message; fix the driver before starting vLLM.',
      };
  }
}

/** Version strings such as `12.4` or `550.54.14` compared number by number. */
function compareDotted(a: string, b: string): number {
  const left = a.split('.').map(Number);
  const right = b.split('.').map(Number);
  for (let i = 0; i < Math.max(left.length, right.length); i++) {
    const difference = (left[i] ?? 0) - (right[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

/**
 * Minimum Linux x86_64 driver per CUDA release (NVIDIA CUDA Toolkit Release Notes, "CUDA Toolkit and Corresponding
 * Driver Versions"; facts §5). Newest first, so the first row the driver reaches is its CUDA version.
 */
const CUDA_MIN_DRIVER: readonly { cuda: string; driver: string }[] = [
  { cuda: '12.6', driver: '560.28.03' },
  { cuda: '12.5', driver: '555.42.02' },
  { cuda: '12.4', driver: '550.54.14' },
  { cuda: '12.3', driver: '545.23.06' },
  { cuda: '12.1', driver: '530.30.02' },
  { cuda: '12.0', driver: '525.60.13' },
];
/** vLLM's wheels are built for CUDA 12; CUDA minor-version compatibility lets them run on any 12.x driver. */
const CUDA_REQUIRED = '12.0';
const CUDA_RECOMMENDED = '12.1';

function minDriverFor(cuda: string): string {
  return CUDA_MIN_DRIVER.find((row) => row.cuda === cuda)?.driver ?? '?';
}

export function checkDriver(input: PreflightInput, facts: HostFacts): CheckResult | null {
  const gpu = facts.gpu;
  if (gpuSkipReason(input, facts) !== null || gpu === null || !gpu.ok) return null;
  const title = 'Driver / CUDA';
  const driver = gpu.driverVersion;
  const cuda =
    gpu.cudaVersion ??
    (driver === null
      ? null
      : (CUDA_MIN_DRIVER.find((row) => compareDotted(driver, row.driver) >= 0)?.cuda ?? null));
  const shown = `driver ${driver ?? 'unknown'}, CUDA ${cuda ?? 'unknown'}${gpu.cudaVersion === null && cuda ? ' (from the driver version)' : ''}`;
  if (cuda === null) {
    return {
      id: 'driver',
      title,
      status: 'warning',
      detail: `${shown}: could not tell which CUDA version the driver supports`,
      fix: `Check the "CUDA Version" in nvidia-smi's header; vLLM needs ≥ ${CUDA_REQUIRED} (driver ≥ ${minDriverFor(CUDA_REQUIRED)}).`,
    };
  }
  if (compareDotted(cuda, CUDA_REQUIRED) < 0) {
    return {
      id: 'driver',
      title,
      status: 'error',
      detail: `${shown}: vLLM's wheels need CUDA ${CUDA_REQUIRED} or newer`,
      fix: `Upgrade the NVIDIA driver to ≥ ${minDriverFor(CUDA_REQUIRED)} (CUDA 12.0); ≥ ${minDriverFor('12.4')} (CUDA 12.4) is better.`,
    };
  }
  if (compareDotted(cuda, CUDA_RECOMMENDED) < 0) {
    return {
      id: 'driver',
      title,
      status: 'warning',
      detail: `${shown}: runs CUDA 12 builds only through minor-version compatibility (no PTX JIT)`,
      fix: `Upgrade the NVIDIA driver to ≥ ${minDriverFor(CUDA_RECOMMENDED)} (CUDA ${CUDA_RECOMMENDED}) or newer.`,
    };
  }
  return ok('driver', title, shown);
}

export interface VisibleGpus {
  gpus: GpuInfo[];
  /** Why the selection could not be applied fully, for the detail line. */
  problem: string | null;
}

/**
 * The GPUs CUDA will show vLLM, in CUDA's order. Entries are nvidia-smi indices or (prefixes of) `GPU-…` uuids;
 * CUDA ignores everything from the first entry it cannot match. Assumes CUDA orders devices as nvidia-smi does
 * (PCI order), which holds on nodes with identical GPUs.
 */
export function visibleGpus(all: readonly GpuInfo[], cudaVisibleDevices: string | null): VisibleGpus {
  if (cudaVisibleDevices === null) return { gpus: [...all], problem: null };
  const chosen: GpuInfo[] = [];
  for (const entry of cudaVisibleDevices.split(',').map((part) => part.trim())) {
    const gpu = /^\d+$/.test(entry)
      ? all.find((g) => g.index === Number(entry))
      : entry.startsWith('GPU-')
        ? all.find((g) => g.uuid?.startsWith(entry))
        : undefined;
    if (!gpu || chosen.includes(gpu)) {
      const problem =
        entry === ''
          ? `CUDA_VISIBLE_DEVICES="${cudaVisibleDevices}" hides ${chosen.length === 0 ? 'every GPU' : 'the GPUs after the empty entry'}`
          : `CUDA_VISIBLE_DEVICES entry "${entry}" matches no GPU here; CUDA ignores it and the entries after it`;
      return { gpus: chosen, problem };
    }
    chosen.push(gpu);
  }
  return { gpus: chosen, problem: null };
}

/** The GPUs vLLM will use: the first tensor_parallel_size visible ones. */
function usedGpus(input: PreflightInput, gpus: readonly GpuInfo[]): GpuInfo[] {
  return visibleGpus(gpus, input.cudaVisibleDevices).gpus.slice(0, input.tensorParallelSize);
}

function processesOn(gpu: GpuInfo, processes: readonly GpuProcess[], gpuCount: number): GpuProcess[] {
  // Without a uuid the process cannot be placed; on a one-GPU machine it can only be there.
  return processes
    .filter((p) => p.gpuIndex === gpu.index || (p.gpuIndex === null && gpuCount === 1))
    .sort((a, b) => (b.usedMemoryMiB ?? 0) - (a.usedMemoryMiB ?? 0));
}

function describeProcess(p: GpuProcess): string {
  const memory = p.usedMemoryMiB === null ? '' : `, ${gibFromMiB(p.usedMemoryMiB)}`;
  const suspicion = !p.likelyVllmLeftover
    ? ''
    : isVllmNamedProcess(p.name)
      ? ', likely a leftover vLLM process'
      : ', a Python process: possibly a leftover vLLM server';
  return `PID ${p.pid} ${p.name}${memory}${suspicion}`;
}

/** What to do about the processes holding a GPU: kill vLLM's own for sure, a Python one only if it is a leftover. */
function stopAdvice(holders: readonly GpuProcess[]): string {
  const vllm = holders.filter((p) => p.likelyVllmLeftover && isVllmNamedProcess(p.name)).map((p) => p.pid);
  const python = holders.filter((p) => p.likelyVllmLeftover && !isVllmNamedProcess(p.name)).map((p) => p.pid);
  if (vllm.length > 0) return `Kill ${vllm.join(' ')} (vLLM processes left by a killed run)`;
  if (python.length > 0)
    return `Stop ${python.join(' ')} if it is a leftover vLLM server (kill ${python.join(' ')})`;
  return 'Stop the processes holding memory';
}

export function checkGpuMemory(input: PreflightInput, facts: HostFacts): CheckResult[] {
  const gpu = facts.gpu;
  if (gpuSkipReason(input, facts) !== null || gpu === null || !gpu.ok) return [];
  const utilization = input.gpuMemoryUtilization;
  const visible = visibleGpus(gpu.gpus, input.cudaVisibleDevices);
  const used = visible.gpus.slice(0, input.tensorParallelSize);
  const results: CheckResult[] = [];
  if (used.length < input.tensorParallelSize) {
    results.push({
      id: 'gpu-count',
      title: 'GPUs for vLLM',
      status: 'error',
      detail:
        `tensor_parallel_size ${input.tensorParallelSize} needs ${input.tensorParallelSize} GPUs, ${used.length} visible` +
        (visible.problem ? ` (${visible.problem})` : ''),
      fix: 'Lower tensor_parallel_size or list more GPUs in cuda_visible_devices / CUDA_VISIBLE_DEVICES.',
    });
  }
  for (const device of used) {
    const id = `gpu-memory:${device.index}`;
    const title = `GPU ${device.index} memory`;
    const { memoryTotalMiB: total, memoryFreeMiB: free } = device;
    if (total === null || free === null) {
      results.push({
        id,
        title,
        status: 'warning',
        detail: `nvidia-smi reports no memory figures for ${device.name}`,
        fix: `Check free memory yourself: vLLM needs ${utilization} × total free when it starts.`,
      });
      continue;
    }
    const needed = utilization * total;
    const holders = processesOn(device, gpu.processes, gpu.gpus.length);
    const leftovers = holders.filter((p) => p.likelyVllmLeftover);
    const shown = `free ${gibFromMiB(free)} of ${gibFromMiB(total)}; vLLM claims ${utilization} × total = ${gibFromMiB(needed)}`;
    const listing =
      holders.length > 0 ? `; held by ${holders.slice(0, 3).map(describeProcess).join('; ')}` : '';
    const unknownHolders = gpu.processQueryError
      ? ` (process list unavailable: ${gpu.processQueryError})`
      : '';
    if (free < needed) {
      // Leave 0.01 of headroom: nvidia-smi's free and CUDA's free differ by a few hundred MiB.
      const fitting = Math.floor((free / total) * 100) / 100 - 0.01;
      const stop = stopAdvice(holders);
      // vLLM numbers devices as CUDA shows them: positions in CUDA_VISIBLE_DEVICES, not nvidia-smi indices.
      const cudaIndex = visible.gpus.indexOf(device);
      results.push({
        id,
        title,
        status: 'error',
        detail:
          `${shown}: vLLM would refuse to start ("Free memory on device cuda:${cudaIndex} … is less than desired GPU ` +
          `memory utilization")${listing}${unknownHolders}`,
        fix:
          fitting >= 0.05
            ? `${stop}, or lower gpu_memory_utilization to ${fitting.toFixed(2)} or less.`
            : `${stop}; too little is free to lower gpu_memory_utilization instead.`,
      });
    } else if (leftovers.length > 0) {
      results.push({
        id,
        title,
        status: 'warning',
        detail: `${shown}${listing}`,
        fix: `${stopAdvice(leftovers)}; vLLM fits even so.`,
      });
    } else {
      results.push(ok(id, title, `${shown}${listing}`));
    }
  }
  return results;
}

/** The oldest vLLM the design supports (design.md, versions table); Qwen3 itself needs 0.8.5. */
const SUPPORTED_FROM: Version = { major: 0, minor: 8, patch: 5, raw: '0.8.5' };

export function checkVllm(input: PreflightInput, facts: HostFacts): CheckResult | null {
  const title = 'vLLM';
  if (input.mode === 'external') return null;
  if (input.mode === 'docker')
    return skipped('vllm', title, 'comes from the Docker image; not checked on this host');
  const detection = facts.vllm;
  if (detection === null) return skipped('vllm', title, 'not probed');
  const what = facts.simulator ? 'vLLM simulator' : 'vLLM';
  if (detection.version === null) {
    return {
      id: 'vllm',
      title,
      status: input.mode === 'machine' ? 'warning' : 'error',
      detail: `${what} not found: ${detection.detail}`,
      fix:
        input.mode === 'machine'
          ? 'Install vLLM (pip install vllm) to serve models here; not needed for runtime external.'
          : 'Install vLLM (pip install vllm) in this environment, or set server.executable to the vllm of your virtualenv.',
    };
  }
  const version = detection.version;
  const rules =
    `reasoning flags: ${enableReasoningRequired(version) ? '--enable-reasoning --reasoning-parser' : '--reasoning-parser'}; ` +
    `reasoning field: ${reasoningFields(version).join(' + ')}`;
  const detail = `${what} ${version.raw} (${detection.detail}); ${rules}`;
  const pin = input.vllmVersionPin === null ? null : parseVersion(input.vllmVersionPin);
  if (input.vllmVersionPin !== null && (pin === null || compareVersions(pin, version) !== 0)) {
    return {
      id: 'vllm',
      title,
      status: 'warning',
      detail: `${detail}; but server.vllm_version pins "${input.vllmVersionPin}", and the flags follow the pin`,
      fix: `Set server.vllm_version to ${version.raw}, or remove it to detect the version at each run.`,
    };
  }
  if (compareVersions(version, SUPPORTED_FROM) < 0) {
    return {
      id: 'vllm',
      title,
      status: 'warning',
      detail: `${detail}; evalrig supports vLLM ${SUPPORTED_FROM.raw} and later (Qwen3 needs 0.8.5)`,
      fix: 'Upgrade vLLM: pip install -U vllm.',
    };
  }
  return ok('vllm', title, detail);
}

/**
 * The plan's reasoning parser and extra args against the vLLM that will run (the pin wins, as at run time):
 * what evalrig will change (a warning: better fixed in the plan) or what vLLM would reject (an error).
 */
export function checkServeFlags(input: PreflightInput, facts: HostFacts): CheckResult | null {
  if (input.mode !== 'local' && input.mode !== 'docker') return null;
  const pinned = input.vllmVersionPin === null ? null : parseVersion(input.vllmVersionPin);
  const version = pinned ?? (input.mode === 'local' ? (facts.vllm?.version ?? null) : null);
  // Without a version the vLLM check already says what is wrong.
  if (version === null) return null;
  const title = 'vLLM flags';
  const rendered = renderVersionedServeFlags({
    reasoningParser: input.reasoningParser ?? undefined,
    extraArgs: input.extraArgs,
    version,
  });
  const against = `for vLLM ${formatVersion(version)}`;
  if (rendered.errors.length > 0) {
    return {
      id: 'vllm-flags',
      title,
      status: 'error',
      detail: rendered.errors.join(' '),
      fix: `Change server.reasoning_parser / server.extra_args as said; the run stops on this ${against}.`,
    };
  }
  if (rendered.notices.length > 0) {
    return {
      id: 'vllm-flags',
      title,
      status: 'warning',
      detail: rendered.notices.join(' '),
      fix: `The run adjusts the flags itself; edit the plan (or upgrade vLLM) to silence this ${against}.`,
    };
  }
  if (rendered.reasoningFlags.length === 0) return null;
  return ok('vllm-flags', title, `${rendered.reasoningFlags.join(' ')} ${against}`);
}

export function checkModel(input: PreflightInput, facts: HostFacts): CheckResult | null {
  const model = facts.model;
  if (input.mode !== 'local' || model === null) return null;
  const title = 'Model';
  // The simulator only echoes the model name; it reads no weights.
  if (facts.simulator)
    return {
      id: 'model',
      title,
      status: 'skipped',
      detail: 'not applicable: the vLLM simulator reads no weights',
      fix: null,
    };
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
  if (input.mode !== 'local' || model?.kind !== 'local' || !model.exists || model.weightFiles === 0)
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

export function checkPort(input: PreflightInput, facts: HostFacts): CheckResult | null {
  if (input.mode !== 'local' && input.mode !== 'docker') return null;
  const title = 'Port';
  if (input.port === 'auto') return ok('port', title, 'auto: a free port is chosen at start');
  const port = facts.port;
  if (port === null) return skipped('port', title, 'not probed');
  const where = `${port.host}:${port.port}`;
  switch (port.status) {
    case 'free':
      return ok('port', title, `${where} is free`);
    case 'in-use':
      return {
        id: 'port',
        title,
        status: 'error',
        detail: `${where} is in use (a second vLLM may even bind it too and share its traffic: it sets SO_REUSEPORT)`,
        fix: `See who holds it (ss -ltnp 'sport = :${port.port}'), stop it, or set server.port: auto.`,
      };
    case 'denied':
      return {
        id: 'port',
        title,
        status: 'error',
        detail: `${where}: permission denied (${port.detail})`,
        fix: 'Use a port of 1024 or above, or server.port: auto.',
      };
    case 'unavailable':
      return {
        id: 'port',
        title,
        status: 'error',
        detail: `${where}: cannot bind (${port.detail})`,
        fix: 'Set server.host to an address of this machine: 127.0.0.1, or 0.0.0.0 for all.',
      };
  }
}

const DISK_ERROR_BYTES = 500 * MIB;
const DISK_WARNING_BYTES = 5 * GIB;

export function checkDisk(input: PreflightInput, facts: HostFacts): CheckResult | null {
  const disk = facts.disk;
  if (input.outputDir === null || disk === null) return null;
  const title = 'Disk (outputs)';
  if (disk.availableBytes === null) {
    return {
      id: 'disk',
      title,
      status: 'warning',
      detail: `cannot measure free space at ${disk.path}: ${disk.error ?? 'unknown error'}`,
      fix: 'Check that output.dir is on a writable disk.',
    };
  }
  const shown = `${gib(disk.availableBytes)} free at ${disk.path}`;
  const fix = 'Free some space or set output.dir to a larger disk.';
  if (disk.availableBytes < DISK_ERROR_BYTES)
    return { id: 'disk', title, status: 'error', detail: `${shown}: runs write logs and predictions`, fix };
  if (disk.availableBytes < DISK_WARNING_BYTES)
    return { id: 'disk', title, status: 'warning', detail: `${shown}: under 5 GiB`, fix };
  return ok('disk', title, shown);
}

export function checkEvalscope(input: PreflightInput, facts: HostFacts): CheckResult | null {
  const title = 'EvalScope';
  const tool = facts.evalscope;
  // Not probed: the plan needs no EvalScope, so there is nothing to say.
  if (tool === null) return input.needsEvalscope ? skipped('evalscope', title, 'not probed') : null;
  if (tool.found)
    return ok('evalscope', title, `evalscope ${tool.version ?? '(version unknown)'} (${tool.detail})`);
  if (input.needsEvalscope) {
    return {
      id: 'evalscope',
      title,
      status: 'error',
      detail: `not found: ${tool.detail}`,
      fix: 'pip install evalscope (the plan has evalscope evals).',
    };
  }
  if (input.mode === 'machine') {
    return {
      id: 'evalscope',
      title,
      status: 'warning',
      detail: `not found: ${tool.detail}`,
      fix: 'pip install evalscope, if you want backend: evalscope; native evals do not need it.',
    };
  }
  return skipped('evalscope', title, 'not installed; this plan does not use it');
}

function checkPython(facts: HostFacts): CheckResult {
  const title = 'Python';
  const tool = facts.python;
  if (tool.found)
    return ok('python', title, `Python ${tool.version ?? '(version unknown)'} (${tool.command})`);
  return {
    id: 'python',
    title,
    status: 'warning',
    detail: `not found: ${tool.detail}`,
    fix: 'Install Python 3 (vLLM and EvalScope are Python programs) or activate their virtualenv.',
  };
}

/** Every check, in the order a person reads them: hardware, server, model, host resources, tools. */
export function runChecks(input: PreflightInput, facts: HostFacts): CheckResult[] {
  return [
    checkGpus(input, facts),
    checkDriver(input, facts),
    ...checkGpuMemory(input, facts),
    checkVllm(input, facts),
    checkServeFlags(input, facts),
    checkModel(input, facts),
    checkWeights(input, facts),
    checkPort(input, facts),
    checkDisk(input, facts),
    checkEvalscope(input, facts),
    checkPython(facts),
  ].filter((result): result is CheckResult => result !== null);
}

export function countByStatus(results: readonly CheckResult[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { ok: 0, warning: 0, error: 0, skipped: 0 };
  for (const result of results) counts[result.status]++;
  return counts;
}
