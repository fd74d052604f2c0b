import type { HostNeeds } from '../../util/host-needs.js';
import { isVllmNamedProcess, type GpuInfo, type GpuProcess } from '../nvidia-smi.js';
import { ok, skipped } from './results.js';
import { gibFromMiB } from './sizes.js';
import type { CheckResult, HostFacts, PreflightInput } from './types.js';
import { compareDotted } from '../../util/pep440.js';

const NO_GPU_ALTERNATIVES =
  'Without a GPU, try the simulator (npm run demo) or evaluate a server that runs elsewhere (server.runtime: external, base_url: …).';

/** The GPUs vLLM will see, when this host's GPUs matter at all; otherwise why they do not. */
function gpuSelection(input: PreflightInput, facts: HostFacts): HostNeeds['gpus'] {
  if ('notApplicable' in input.needs.gpus) return input.needs.gpus;
  if (facts.simulator) return { notApplicable: 'the plan runs the vLLM simulator, which needs no GPU' };
  return input.needs.gpus;
}

export function checkGpus(input: PreflightInput, facts: HostFacts): CheckResult {
  const title = 'GPUs';
  const selection = gpuSelection(input, facts);
  if ('notApplicable' in selection)
    return skipped('gpus', title, `not applicable: ${selection.notApplicable}`);
  const gpu = facts.gpu;
  if (gpu === null) return skipped('gpus', title, 'not queried');
  if (gpu.ok) {
    const names = gpu.gpus.map((g) => `${g.index}: ${g.name}`).join(', ');
    return ok('gpus', title, `${gpu.gpus.length} GPU${gpu.gpus.length === 1 ? '' : 's'} (${names})`);
  }
  const { failure } = gpu;
  // No NVIDIA GPU at all may be fine (the simulator and remote endpoints need none); a broken driver never is.
  switch (failure.kind) {
    case 'not-installed':
      return {
        id: 'gpus',
        title,
        status: input.absentIs,
        detail: `no NVIDIA GPU: ${failure.message} (no NVIDIA driver on this machine)`,
        fix: NO_GPU_ALTERNATIVES,
      };
    case 'no-devices':
      return {
        id: 'gpus',
        title,
        status: input.absentIs,
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

/**
 * Minimum Linux x86_64 driver per CUDA release (NVIDIA CUDA Toolkit Release Notes, "CUDA Toolkit and Corresponding
 * Driver Versions"; docs/vllm-versions.md §12.2). Newest first, so the first row the driver reaches is its CUDA version.
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
  if ('notApplicable' in gpuSelection(input, facts) || gpu === null || !gpu.ok) return null;
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

/** The GPUs vLLM will use: the first tensor_parallel_size visible ones; none when this host's GPUs do not matter. */
export function usedGpus(input: PreflightInput, gpus: readonly GpuInfo[]): GpuInfo[] {
  const { gpus: needed } = input.needs;
  if ('notApplicable' in needed) return [];
  return visibleGpus(gpus, needed.selection).gpus.slice(0, input.tensorParallelSize);
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
  const selection = gpuSelection(input, facts);
  if ('notApplicable' in selection || gpu === null || !gpu.ok) return [];
  const utilization = input.gpuMemoryUtilization;
  const visible = visibleGpus(gpu.gpus, selection.selection);
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

/** Whether two CUDA_VISIBLE_DEVICES selections may share a GPU; null (all GPUs) shares with everything. */
function mayShareGpu(ours: string | null, theirs: string | null | undefined): boolean {
  if (ours === null || theirs === null || theirs === undefined) return true;
  const entries = (selection: string) => selection.split(',').map((entry) => entry.trim());
  const mine = new Set(entries(ours));
  return entries(theirs).some((entry) => mine.has(entry));
}

/**
 * Two vLLMs on one GPU each plan for `gpu_memory_utilization` of it: the second fails its start minutes later, or
 * both run slowly. Another evalrig run's live server on the GPUs this plan would use is refused before the start.
 */
export function checkOtherRuns(input: PreflightInput, facts: HostFacts): CheckResult | null {
  const selection = gpuSelection(input, facts);
  if ('notApplicable' in selection || input.otherRuns.length === 0) return null;
  const sharing = input.otherRuns.filter((run) => mayShareGpu(selection.selection, run.gpus));
  const title = 'other evalrig runs';
  if (sharing.length === 0)
    return ok('other-runs', title, `${input.otherRuns.length} other run(s) here, on other GPUs`);
  return {
    id: 'other-runs',
    title,
    status: 'error',
    detail: `another evalrig run serves on these GPUs: ${sharing.map((run) => `${run.name}: ${run.detail}`).join('; ')}`,
    fix:
      'Wait for that run to end, give this plan other GPUs (server.cuda_visible_devices), or, if that evalrig is ' +
      'stuck, stop it (then `evalrig cleanup --yes` removes what it leaves).',
  };
}
