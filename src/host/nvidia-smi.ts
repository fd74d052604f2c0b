import { runProbe, type ProbeFailure } from '../util/probe.js';

/**
 * Reading `nvidia-smi`. Formats, messages and exit codes as the nvidia-smi(1) man page documents them (summary in
 * docs/vllm-versions.md §12.1; fixtures in test/fixtures/nvidia-smi/). Memory values are MiB throughout, as
 * nvidia-smi prints them.
 */

export const GPU_QUERY_FIELDS = [
  'index',
  'uuid',
  'name',
  'memory.total',
  'memory.used',
  'memory.free',
  'driver_version',
] as const;
// gpu_uuid ties each process to its GPU; the index is not a compute-apps field.
export const COMPUTE_APP_QUERY_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_memory'] as const;

export interface GpuInfo {
  index: number;
  /** `GPU-…`; null when the query did not ask for it. */
  uuid: string | null;
  name: string;
  /** null when nvidia-smi says `[N/A]` or `[Not Supported]`. */
  memoryTotalMiB: number | null;
  memoryUsedMiB: number | null;
  memoryFreeMiB: number | null;
  driverVersion: string | null;
}

export interface GpuProcess {
  pid: number;
  name: string;
  usedMemoryMiB: number | null;
  gpuUuid: string | null;
  /** The GPU's index, when its uuid matches one of the GPUs listed. */
  gpuIndex: number | null;
  /** Named like a vLLM engine or worker, or a Python process: what a killed run leaves holding GPU memory. */
  likelyVllmLeftover: boolean;
}

/** The header names the memory column `used_gpu_memory` although the query field is `used_memory`. */
const HEADER_ALIASES: Record<string, string> = { used_gpu_memory: 'used_memory' };

function headerField(cell: string): string {
  const name = cell.replace(/\s*\[[^\]]*\]\s*$/, '').trim();
  return HEADER_ALIASES[name] ?? name;
}

/**
 * Splits nvidia-smi CSV (`, ` between values) into records keyed by field. Handles `--format=csv` (a header,
 * units such as `143752 MiB`) and `csv,noheader[,nounits]` (fields as queried). A name containing a comma is put
 * back together into `looseField`.
 */
function parseCsv(text: string, queried: readonly string[], looseField: string): Record<string, string>[] {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const first = lines[0] ?? '';
  // Data rows start with an index, a pid or a `GPU-…` uuid; a header starts with a field name.
  const hasHeader = /^[a-z_.]+$/.test(headerField(first.split(',')[0] ?? ''));
  const fields = hasHeader ? first.split(',').map(headerField) : [...queried];
  const rows = hasHeader ? lines.slice(1) : lines;
  const loose = fields.indexOf(looseField);
  return rows.map((line) => {
    let cells = line.split(',').map((cell) => cell.trim());
    if (cells.length > fields.length && loose !== -1) {
      const after = fields.length - loose - 1;
      cells = [
        ...cells.slice(0, loose),
        cells.slice(loose, cells.length - after).join(', '),
        ...cells.slice(cells.length - after),
      ];
    }
    return Object.fromEntries(fields.map((field, i) => [field, cells[i] ?? '']));
  });
}

/** `143140`, `143140 MiB` → 143140; `[N/A]`, `[Not Supported]`, `[Insufficient Permissions]` → null. */
function parseMiB(cell: string | undefined): number | null {
  const match = /^(\d+(?:\.\d+)?)(?:\s*MiB)?$/.exec((cell ?? '').trim());
  return match ? Number(match[1]) : null;
}

function textOrNull(cell: string | undefined): string | null {
  const value = (cell ?? '').trim();
  return value === '' || value.startsWith('[') ? null : value;
}

/** Output of `nvidia-smi --query-gpu=<fields> --format=csv[,noheader][,nounits]`; rows without an index are skipped. */
export function parseGpuQuery(text: string, fields: readonly string[] = GPU_QUERY_FIELDS): GpuInfo[] {
  return parseCsv(text, fields, 'name').flatMap((row) => {
    const index = Number(row['index']);
    if (row['index'] === undefined || row['index'] === '' || !Number.isInteger(index)) return [];
    return [
      {
        index,
        uuid: textOrNull(row['uuid']),
        name: row['name'] ?? '',
        memoryTotalMiB: parseMiB(row['memory.total']),
        memoryUsedMiB: parseMiB(row['memory.used']),
        memoryFreeMiB: parseMiB(row['memory.free']),
        driverVersion: textOrNull(row['driver_version']),
      },
    ];
  });
}

function processBaseName(processName: string): string {
  return processName.split('/').at(-1) ?? processName;
}

/** vLLM names its engine and workers `VLLM::EngineCore`, `VLLM::Worker_TP0`, …; the CLI entry point is `vllm`. */
export function isVllmNamedProcess(processName: string): boolean {
  const base = processBaseName(processName);
  return /^VLLM::/i.test(base) || /^vllm$/i.test(base);
}

/** A vLLM-named process, or a plain `python`/`python3` (how older vLLM and its API server show up, maybe as a path). */
export function isLikelyVllmProcess(processName: string): boolean {
  return isVllmNamedProcess(processName) || /^python[0-9.]*$/i.test(processBaseName(processName));
}

/**
 * Output of `nvidia-smi --query-compute-apps=<fields> --format=csv…`. Empty output means no processes.
 * `gpus` maps each process's `gpu_uuid` to a GPU index.
 */
export function parseComputeApps(
  text: string,
  gpus: readonly GpuInfo[] = [],
  fields: readonly string[] = COMPUTE_APP_QUERY_FIELDS,
): GpuProcess[] {
  return parseCsv(text, fields, 'process_name').flatMap((row) => {
    const pid = Number(row['pid']);
    if (!Number.isInteger(pid) || pid <= 0) return [];
    const name = row['process_name'] ?? '';
    const gpuUuid = textOrNull(row['gpu_uuid']);
    const gpu = gpuUuid === null ? undefined : gpus.find((g) => g.uuid === gpuUuid);
    const usedMemoryMiB = parseMiB(row['used_memory']);
    return [
      {
        pid,
        name,
        usedMemoryMiB,
        gpuUuid,
        gpuIndex: gpu?.index ?? null,
        likelyVllmLeftover: isLikelyVllmProcess(name) && (usedMemoryMiB === null || usedMemoryMiB > 0),
      },
    ];
  });
}

/**
 * The highest CUDA version the driver supports, from the plain `nvidia-smi` header (`CUDA Version: 13.0`) or from
 * `nvidia-smi --version` (`CUDA Version        : 13.0`). Not the installed toolkit.
 */
export function parseCudaVersion(text: string): string | null {
  return /CUDA Version\s*:\s*([0-9]+(?:\.[0-9]+)*)/i.exec(text)?.[1] ?? null;
}

/** `Driver Version: 580.95.05` (header) or `DRIVER version      : 580.95.05` (`--version`). */
export function parseDriverVersion(text: string): string | null {
  return /Driver Version\s*:\s*([0-9]+(?:\.[0-9]+)*)/i.exec(text)?.[1] ?? null;
}

/** nvidia-smi exit codes from its man page, nvidia-smi(1). */
const EXIT_CODE_MEANINGS: Record<number, string> = {
  2: 'invalid argument or flag',
  3: 'the requested operation is not available on this GPU',
  4: 'no permission to run this operation',
  6: 'the query was unsuccessful',
  8: 'an external power cable is not attached',
  9: 'the NVIDIA driver is not loaded',
  10: 'the kernel detected an interrupt issue with a GPU',
  12: 'the NVML shared library could not be found or loaded',
  13: 'a function is not implemented in this driver',
  14: 'the infoROM is corrupted',
  15: 'the GPU has fallen off the bus or is otherwise inaccessible',
  255: 'other error or internal driver error',
};

export type NvidiaSmiFailureKind =
  'not-installed' | 'driver-not-loaded' | 'no-devices' | 'timeout' | 'failed';

export interface NvidiaSmiFailure {
  kind: NvidiaSmiFailureKind;
  exitCode: number | null;
  /** What nvidia-smi printed (or the spawn error), for people. */
  message: string;
}

const DRIVER_NOT_LOADED = /couldn't communicate with the NVIDIA driver/i;
const NO_DEVICES = /No devices were found/i;

/** Puts a failed nvidia-smi run into one of the cases a person can act on. */
export function classifyNvidiaSmiFailure(failure: ProbeFailure, nvidiaSmi: string): NvidiaSmiFailure {
  const printed = failure.output.split('\n').find((line) => line.trim() !== '') ?? '';
  if (failure.reason === 'not-found' || failure.reason === 'not-runnable' || failure.exitCode === 127) {
    return { kind: 'not-installed', exitCode: failure.exitCode, message: failure.message };
  }
  if (failure.reason === 'timeout') return { kind: 'timeout', exitCode: null, message: failure.message };
  if (failure.exitCode === 9 || DRIVER_NOT_LOADED.test(failure.output)) {
    return {
      kind: 'driver-not-loaded',
      exitCode: failure.exitCode,
      message: printed || 'the NVIDIA driver is not loaded',
    };
  }
  // The exit code that goes with `No devices were found` is not confirmed, so the text decides.
  if (NO_DEVICES.test(failure.output))
    return { kind: 'no-devices', exitCode: failure.exitCode, message: printed };
  const meaning = failure.exitCode === null ? undefined : EXIT_CODE_MEANINGS[failure.exitCode];
  const code =
    failure.exitCode === null ? 'failed' : `exited with ${failure.exitCode}${meaning ? ` (${meaning})` : ''}`;
  return {
    kind: 'failed',
    exitCode: failure.exitCode,
    message: `${nvidiaSmi} ${code}${printed ? `: ${printed}` : ''}`,
  };
}

export type GpuQueryResult =
  | {
      ok: true;
      gpus: GpuInfo[];
      processes: GpuProcess[];
      /** Why the process list is missing (some containers and drivers refuse it); null when it was read. */
      processQueryError: string | null;
      driverVersion: string | null;
      cudaVersion: string | null;
    }
  | { ok: false; failure: NvidiaSmiFailure };

export interface QueryGpusOptions {
  nvidiaSmi?: string;
  env?: Readonly<Record<string, string | undefined>>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Asks nvidia-smi for the GPUs, the processes holding their memory, and the driver's CUDA version. */
export async function queryGpus(options: QueryGpusOptions = {}): Promise<GpuQueryResult> {
  const nvidiaSmi = options.nvidiaSmi ?? 'nvidia-smi';
  const probe = { env: options.env, timeoutMs: options.timeoutMs ?? 15_000, signal: options.signal };
  const listed = await runProbe(
    nvidiaSmi,
    [`--query-gpu=${GPU_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'],
    probe,
  );
  if (!listed.ok) return { ok: false, failure: classifyNvidiaSmiFailure(listed, nvidiaSmi) };
  const gpus = parseGpuQuery(listed.stdout);
  if (gpus.length === 0) {
    const printed = [listed.stdout, listed.stderr].join('\n').trim();
    return {
      ok: false,
      failure: { kind: 'no-devices', exitCode: 0, message: printed || 'nvidia-smi listed no GPU' },
    };
  }

  const [apps, header] = await Promise.all([
    runProbe(
      nvidiaSmi,
      [`--query-compute-apps=${COMPUTE_APP_QUERY_FIELDS.join(',')}`, '--format=csv,noheader,nounits'],
      probe,
    ),
    runProbe(nvidiaSmi, [], probe),
  ]);
  const headerText = header.ok ? header.stdout : '';
  return {
    ok: true,
    gpus,
    processes: apps.ok ? parseComputeApps(apps.stdout, gpus) : [],
    processQueryError: apps.ok ? null : apps.message,
    driverVersion: gpus[0]?.driverVersion ?? parseDriverVersion(headerText),
    cudaVersion: parseCudaVersion(headerText),
  };
}
