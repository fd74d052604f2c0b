import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  classifyNvidiaSmiFailure,
  isLikelyVllmProcess,
  parseComputeApps,
  parseCudaVersion,
  parseDriverVersion,
  parseGpuQuery,
  queryGpus,
} from '../../../src/host/nvidia-smi.js';
import { FIXTURES } from '../../paths.js';

const NVIDIA_SMI_FIXTURES = join(FIXTURES, 'nvidia-smi');
const FAKE_NVIDIA_SMI = join(NVIDIA_SMI_FIXTURES, 'fake-nvidia-smi');
// The field lists of the h200-like outputs (which do not ask for uuids).
const CAPTURE_GPU_FIELDS = ['index', 'name', 'memory.total', 'memory.used', 'memory.free', 'driver_version'];
const CAPTURE_APP_FIELDS = ['pid', 'process_name', 'used_memory'];

function fixture(path: string): string {
  return readFileSync(join(NVIDIA_SMI_FIXTURES, path), 'utf8');
}

const H200 = {
  index: 0,
  uuid: null,
  name: 'NVIDIA H200',
  memoryTotalMiB: 143752,
  memoryUsedMiB: 0,
  memoryFreeMiB: 143140,
  driverVersion: '580.95.05',
};

describe('parseGpuQuery on the h200-like outputs (one nvidia-smi output format per file)', () => {
  it.each(['query-gpu.noheader-nounits.txt', 'query-gpu.noheader.txt', 'query-gpu.csv.txt'])('%s', (file) => {
    expect(parseGpuQuery(fixture(`h200-like/${file}`), CAPTURE_GPU_FIELDS)).toEqual([H200]);
  });

  it('reads the busy figures', () => {
    expect(
      parseGpuQuery(fixture('h200-like/query-gpu.busy.noheader-nounits.txt'), CAPTURE_GPU_FIELDS),
    ).toEqual([{ ...H200, memoryUsedMiB: 5129, memoryFreeMiB: 138011 }]);
  });

  it('finds no GPU in an error message', () => {
    expect(parseGpuQuery(fixture('h200-like/bogus-field.txt'), CAPTURE_GPU_FIELDS)).toEqual([]);
  });
});

describe('parseGpuQuery on evalrig scenarios', () => {
  it('reads two GPUs with uuids', () => {
    const gpus = parseGpuQuery(fixture('two-gpus/query-gpu.csv'));
    expect(gpus.map((g) => [g.index, g.uuid, g.memoryFreeMiB])).toEqual([
      [0, 'GPU-1a2b3c4d-0000-4000-8000-000000000000', 80972],
      [1, 'GPU-1a2b3c4d-1111-4111-8111-111111111111', 50247],
    ]);
  });

  it('keeps [N/A] memory as unknown and a comma inside a name', () => {
    const [gpu] = parseGpuQuery('0, GPU-abc, Some GPU, rev 2, [N/A], [N/A], [Not Supported], 550.54.15\n');
    expect(gpu).toMatchObject({
      name: 'Some GPU, rev 2',
      memoryTotalMiB: null,
      memoryFreeMiB: null,
      driverVersion: '550.54.15',
    });
  });
});

describe('parseComputeApps', () => {
  it('reads empty output as no processes', () => {
    expect(
      parseComputeApps(
        fixture('h200-like/query-compute-apps.idle.noheader-nounits.txt'),
        [],
        CAPTURE_APP_FIELDS,
      ),
    ).toEqual([]);
    expect(
      parseComputeApps(fixture('h200-like/query-compute-apps.idle.csv.txt'), [], CAPTURE_APP_FIELDS),
    ).toEqual([]);
  });

  it.each(['query-compute-apps.busy.noheader-nounits.txt', 'query-compute-apps.busy.csv.txt'])(
    'reads %s',
    (file) => {
      expect(parseComputeApps(fixture(`h200-like/${file}`), [], CAPTURE_APP_FIELDS)).toEqual([
        {
          pid: 23817,
          name: 'python3',
          usedMemoryMiB: 5120,
          gpuUuid: null,
          gpuIndex: null,
          likelyVllmLeftover: true,
        },
      ]);
    },
  );

  it('maps each process to its GPU through gpu_uuid and flags vLLM leftovers', () => {
    const gpus = parseGpuQuery(fixture('orphan-enginecore/query-gpu.csv'));
    expect(parseComputeApps(fixture('orphan-enginecore/query-compute-apps.csv'), gpus)).toEqual([
      {
        pid: 48213,
        name: 'VLLM::EngineCore',
        usedMemoryMiB: 71680,
        gpuUuid: 'GPU-0b7e5c1f-3a2d-4c8e-9f6a-1d2c3b4a5e6f',
        gpuIndex: 0,
        likelyVllmLeftover: true,
      },
    ]);
  });

  it.each([
    ['VLLM::EngineCore', true],
    ['VLLM::Worker_TP1', true],
    ['/usr/bin/python3.11', true],
    ['python', true],
    ['/opt/venv/bin/vllm', true],
    ['/usr/lib/xorg/Xorg', false],
    ['ollama', false],
  ])('%s likely vLLM: %s', (name, expected) => {
    expect(isLikelyVllmProcess(name)).toBe(expected);
  });
});

describe('driver and CUDA versions', () => {
  it('reads the plain header and --version', () => {
    expect(parseCudaVersion(fixture('h200-like/nvidia-smi.idle.txt'))).toBe('13.0');
    expect(parseDriverVersion(fixture('h200-like/nvidia-smi.idle.txt'))).toBe('580.95.05');
    expect(parseCudaVersion(fixture('h200-like/version.txt'))).toBe('13.0');
    expect(parseDriverVersion(fixture('h200-like/version.txt'))).toBe('580.95.05');
    expect(parseCudaVersion(fixture('old-driver/nvidia-smi.txt'))).toBe('11.8');
  });

  it('returns null when there is no header', () => {
    expect(parseCudaVersion('No devices were found')).toBeNull();
  });
});

describe('classifyNvidiaSmiFailure', () => {
  const base = { ok: false as const, exitCode: null, output: '', message: '' };

  it.each([
    [{ ...base, reason: 'not-found' as const, message: 'nvidia-smi: command not found' }, 'not-installed'],
    [
      { ...base, reason: 'exit' as const, exitCode: 9, output: fixture('driver-not-loaded/fail.txt') },
      'driver-not-loaded',
    ],
    [{ ...base, reason: 'exit' as const, exitCode: 6, output: 'No devices were found' }, 'no-devices'],
    [{ ...base, reason: 'timeout' as const, message: 'nvidia-smi …: no answer within 15 s' }, 'timeout'],
  ])('%#: %s', (failure, kind) => {
    expect(classifyNvidiaSmiFailure(failure, 'nvidia-smi').kind).toBe(kind);
  });

  it('names the man-page meaning of other exit codes', () => {
    const failure = {
      ...base,
      reason: 'exit' as const,
      exitCode: 15,
      output: 'Unable to determine the device handle for GPU0000:18:00.0: Unknown Error',
    };
    expect(classifyNvidiaSmiFailure(failure, 'nvidia-smi')).toEqual({
      kind: 'failed',
      exitCode: 15,
      message:
        'nvidia-smi exited with 15 (the GPU has fallen off the bus or is otherwise inaccessible): Unable to determine the device handle for GPU0000:18:00.0: Unknown Error',
    });
  });
});

describe('queryGpus with a fake nvidia-smi', () => {
  beforeAll(() => {
    // Some checkouts lose the executable bit.
    chmodSync(FAKE_NVIDIA_SMI, 0o755);
  });

  function query(scenario: string) {
    return queryGpus({ nvidiaSmi: FAKE_NVIDIA_SMI, env: { FAKE_NVIDIA_SMI_SCENARIO: scenario } });
  }

  it('free H200', async () => {
    const result = await query('free-h200');
    expect(result).toMatchObject({
      ok: true,
      gpus: [{ index: 0, name: 'NVIDIA H200', memoryFreeMiB: 143140 }],
      processes: [],
      processQueryError: null,
      driverVersion: '580.95.05',
      cudaVersion: '13.0',
    });
  });

  it('an orphan VLLM::EngineCore holding 70 GiB', async () => {
    const result = await query('orphan-enginecore');
    expect(result).toMatchObject({
      ok: true,
      processes: [{ pid: 48213, gpuIndex: 0, likelyVllmLeftover: true }],
      cudaVersion: '12.4',
    });
  });

  it('two GPUs, the process on the second', async () => {
    const result = await query('two-gpus');
    expect(result.ok && result.processes.map((p) => [p.pid, p.gpuIndex])).toEqual([[9921, 1]]);
  });

  it('the driver is not loaded (exit 9)', async () => {
    expect(await query('driver-not-loaded')).toEqual({
      ok: false,
      failure: {
        kind: 'driver-not-loaded',
        exitCode: 9,
        message:
          "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.",
      },
    });
  });

  it('no devices', async () => {
    expect(await query('no-gpu')).toMatchObject({
      ok: false,
      failure: { kind: 'no-devices', message: 'No devices were found' },
    });
  });

  it('an old driver still lists its GPU and CUDA 11.8', async () => {
    expect(await query('old-driver')).toMatchObject({
      ok: true,
      driverVersion: '520.61.05',
      cudaVersion: '11.8',
    });
  });

  it('no nvidia-smi at all', async () => {
    const result = await queryGpus({ nvidiaSmi: join(NVIDIA_SMI_FIXTURES, 'no-such-nvidia-smi') });
    expect(result).toMatchObject({ ok: false, failure: { kind: 'not-installed' } });
  });
});
