import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkDisk } from '../../../src/host/checks/disk.js';
import {
  checkDriver,
  checkGpuMemory,
  checkGpus,
  checkOtherRuns,
  visibleGpus,
} from '../../../src/host/checks/gpus.js';
import { checkModel, checkWeights } from '../../../src/host/checks/model.js';
import { checkPort } from '../../../src/host/checks/port.js';
import { runChecks } from '../../../src/host/checks/run-checks.js';
import { checkEvalscope } from '../../../src/host/checks/tools.js';
import type { HostFacts } from '../../../src/host/checks/types.js';
import { checkServeFlags, checkVllm } from '../../../src/host/checks/vllm.js';
import { isSimulatorExecutable } from '../../../src/host/facts.js';
import type { GpuInfo, GpuProcess, GpuQueryResult } from '../../../src/host/nvidia-smi.js';
import {
  machinePreflightInput,
  preflightInputFromPlan,
  resolvePlanPath,
} from '../../../src/host/preflight-input.js';
import { dockerHostNeeds } from '../../../src/server/docker/host-needs.js';
import { externalHostNeeds } from '../../../src/server/external/host-needs.js';
import { localHostNeeds } from '../../../src/server/local/host-needs.js';
import { expandHome } from '../../../src/util/paths.js';
import { PlanSchema, ServerSchema, type ServerSpec } from '../../../src/plan/schema.js';
import { parseVersion, type Version } from '../../../src/util/pep440.js';
import { preflightInput as input } from '../helpers.js';

const GIB = 1024 ** 3;

function version(text: string): Version {
  const parsed = parseVersion(text);
  if (!parsed) throw new Error(text);
  return parsed;
}

function h100(index: number, freeMiB = 80972): GpuInfo {
  return {
    index,
    uuid: `GPU-0000000${index}-aaaa-4bbb-8ccc-dddddddddddd`,
    name: 'NVIDIA H100 80GB HBM3',
    memoryTotalMiB: 81559,
    memoryUsedMiB: 81559 - 587 - freeMiB,
    memoryFreeMiB: freeMiB,
    driverVersion: '550.54.15',
  };
}

function gpuResult(
  gpus: GpuInfo[],
  processes: GpuProcess[] = [],
  cudaVersion: string | null = '12.4',
): GpuQueryResult {
  return {
    ok: true,
    gpus,
    processes,
    processQueryError: null,
    driverVersion: gpus[0]?.driverVersion ?? null,
    cudaVersion,
  };
}

const ORPHAN: GpuProcess = {
  pid: 48213,
  name: 'VLLM::EngineCore',
  usedMemoryMiB: 71680,
  gpuUuid: h100(0).uuid,
  gpuIndex: 0,
  likelyVllmLeftover: true,
};

function facts(overrides: Partial<HostFacts> = {}): HostFacts {
  return {
    simulator: false,
    gpu: gpuResult([h100(0)]),
    vllm: { version: version('0.10.1'), source: 'cli', detail: 'vllm --version: 0.10.1' },
    evalscope: { command: 'evalscope', found: true, version: '1.0.0', detail: 'evalscope --version' },
    python: { command: 'python3', found: true, version: '3.11.7', detail: 'python3 --version' },
    model: { kind: 'hub', reference: 'Qwen/Qwen3-8B' },
    port: null,
    disk: { path: '/data', availableBytes: 100 * GIB, error: null },
    ...overrides,
  };
}

function server(fields: Record<string, unknown> = {}): ServerSpec {
  return ServerSchema.parse({ model: 'Qwen/Qwen3-8B', ...fields });
}

/** A local server that sees these GPUs, as its `cuda_visible_devices` sets them. */
function localOn(devices: string) {
  return localHostNeeds(server({ cuda_visible_devices: devices }), {});
}

function failedGpu(kind: 'not-installed' | 'no-devices' | 'driver-not-loaded'): GpuQueryResult {
  return {
    ok: false,
    failure: { kind, exitCode: kind === 'driver-not-loaded' ? 9 : null, message: 'nvidia-smi says no' },
  };
}

describe('checkGpus', () => {
  it('lists the GPUs', () => {
    expect(checkGpus(input(), facts())).toMatchObject({
      status: 'ok',
      detail: '1 GPU (0: NVIDIA H100 80GB HBM3)',
    });
  });

  it('no GPU for a local plan: an error that names the alternatives', () => {
    const result = checkGpus(input(), facts({ gpu: failedGpu('not-installed') }));
    expect(result.status).toBe('error');
    expect(result.detail).toContain('no NVIDIA GPU');
    expect(result.fix).toMatch(/npm run demo.*runtime: external/);
  });

  it('no GPU on a machine check: a warning', () => {
    expect(checkGpus(machinePreflightInput('/tmp', {}), facts({ gpu: failedGpu('no-devices') })).status).toBe(
      'warning',
    );
  });

  it('a driver that is not loaded is an error everywhere', () => {
    const result = checkGpus(
      machinePreflightInput('/tmp', {}),
      facts({ gpu: failedGpu('driver-not-loaded') }),
    );
    expect(result).toMatchObject({ status: 'error', fix: expect.stringContaining('modprobe nvidia') });
  });

  it('skips the GPU checks for the simulator and for an external endpoint', () => {
    expect(checkGpus(input(), facts({ simulator: true, gpu: null }))).toMatchObject({
      status: 'skipped',
      detail: expect.stringContaining('simulator'),
    });
    expect(checkGpus(input({ needs: externalHostNeeds() }), facts({ gpu: null }))).toMatchObject({
      status: 'skipped',
      detail: expect.stringContaining('external'),
    });
    expect(runChecks(input(), facts({ simulator: true, gpu: null })).map((r) => r.id)).not.toContain(
      'driver',
    );
  });
});

describe('checkDriver', () => {
  it.each([
    ['13.0', '580.159.04', 'ok'],
    ['12.4', '550.54.15', 'ok'],
    ['12.0', '525.60.13', 'warning'],
    ['11.8', '520.61.05', 'error'],
  ])('CUDA %s (driver %s): %s', (cuda, driver, status) => {
    const gpu = { ...h100(0), driverVersion: driver };
    expect(checkDriver(input(), facts({ gpu: gpuResult([gpu], [], cuda) }))?.status).toBe(status);
  });

  it('derives CUDA from the driver version when the header has none', () => {
    const gpu = { ...h100(0), driverVersion: '520.61.05' };
    const result = checkDriver(input(), facts({ gpu: gpuResult([gpu], [], null) }));
    expect(result).toMatchObject({ status: 'warning', detail: expect.stringContaining('could not tell') });
    const newer = checkDriver(
      input(),
      facts({ gpu: gpuResult([{ ...gpu, driverVersion: '535.129.03' }], [], null) }),
    );
    expect(newer).toMatchObject({
      status: 'ok',
      detail: 'driver 535.129.03, CUDA 12.1 (from the driver version)',
    });
  });

  it('says which driver to install', () => {
    const gpu = { ...h100(0), driverVersion: '520.61.05' };
    expect(checkDriver(input(), facts({ gpu: gpuResult([gpu], [], '11.8') }))?.fix).toContain('525.60.13');
  });
});

describe('visibleGpus', () => {
  const gpus = [h100(0), h100(1)];

  it.each([
    [null, [0, 1], null],
    ['1', [1], null],
    ['1,0', [1, 0], null],
    [' 0 , 1 ', [0, 1], null],
    ['GPU-00000001', [1], null],
    ['0,7,1', [0], 'entry "7" matches no GPU'],
    ['', [], 'hides every GPU'],
  ])('%j → %j', (value, indices, problem) => {
    const result = visibleGpus(gpus, value);
    expect(result.gpus.map((g) => g.index)).toEqual(indices);
    if (problem === null) expect(result.problem).toBeNull();
    else expect(result.problem).toContain(problem);
  });
});

describe('checkGpuMemory', () => {
  it('fits: ok, with the numbers', () => {
    const [result] = checkGpuMemory(input(), facts());
    expect(result).toMatchObject({
      id: 'gpu-memory:0',
      status: 'ok',
      detail: expect.stringContaining('vLLM claims 0.9 × total = 71.7 GiB'),
    });
  });

  it('an orphan engine holding 70 GiB: an error before vLLM refuses, naming the PID', () => {
    const gpu = gpuResult([h100(0, 8727)], [ORPHAN]);
    const [result] = checkGpuMemory(input(), facts({ gpu }));
    expect(result?.status).toBe('error');
    expect(result?.detail).toContain('Free memory on device cuda:0');
    expect(result?.detail).toContain('PID 48213 VLLM::EngineCore, 70.0 GiB, likely a leftover vLLM process');
    expect(result?.fix).toBe(
      'Kill 48213 (vLLM processes left by a killed run), or lower gpu_memory_utilization to 0.09 or less.',
    );
  });

  it('fits, but a leftover holds memory: a warning', () => {
    const small = { ...ORPHAN, usedMemoryMiB: 2048 };
    const [result] = checkGpuMemory(input(), facts({ gpu: gpuResult([h100(0, 78000)], [small]) }));
    expect(result).toMatchObject({
      status: 'warning',
      fix: 'Kill 48213 (vLLM processes left by a killed run); vLLM fits even so.',
    });
  });

  it('checks only the GPUs vLLM will use, and is careful with a Python process', () => {
    const busy: GpuProcess = { ...ORPHAN, pid: 9921, name: 'python3', gpuIndex: 1 };
    const gpu = gpuResult([h100(0), h100(1, 20000)], [busy]);
    expect(
      checkGpuMemory(input({ needs: localOn('0') }), facts({ gpu })).map((r) => [r.id, r.status]),
    ).toEqual([['gpu-memory:0', 'ok']]);
    const [second] = checkGpuMemory(input({ needs: localOn('1') }), facts({ gpu }));
    expect(second).toMatchObject({ id: 'gpu-memory:1', status: 'error' });
    // vLLM calls the only visible GPU cuda:0.
    expect(second?.detail).toContain('Free memory on device cuda:0');
    expect(second?.detail).toContain(
      'PID 9921 python3, 70.0 GiB, a Python process: possibly a leftover vLLM server',
    );
    expect(second?.fix).toMatch(/^Stop 9921 if it is a leftover vLLM server \(kill 9921\)/);
    expect(checkGpuMemory(input({ tensorParallelSize: 2 }), facts({ gpu })).map((r) => r.status)).toEqual([
      'ok',
      'error',
    ]);
  });

  it('too few GPUs for tensor_parallel_size', () => {
    const results = checkGpuMemory(input({ tensorParallelSize: 2, needs: localOn('0') }), facts());
    expect(results[0]).toMatchObject({
      id: 'gpu-count',
      status: 'error',
      detail: expect.stringContaining('needs 2 GPUs, 1 visible'),
    });
  });

  it('a utilization below the default moves the line', () => {
    const gpu = gpuResult([h100(0, 40000)]);
    expect(checkGpuMemory(input(), facts({ gpu }))[0]?.status).toBe('error');
    expect(checkGpuMemory(input({ gpuMemoryUtilization: 0.45 }), facts({ gpu }))[0]?.status).toBe('ok');
  });
});

describe('checkOtherRuns', () => {
  const other = (gpus: string | null) => ({
    name: 'process group 4242',
    detail: 'vllm serve … (run outputs/x)',
    gpus,
  });

  it('refuses the GPUs another evalrig run serves on, saying which run and what to do', () => {
    const result = checkOtherRuns(input({ otherRuns: [other(null)] }), facts());
    expect(result).toMatchObject({ id: 'other-runs', status: 'error' });
    expect(result?.detail).toContain('process group 4242');
    expect(result?.fix).toContain('server.cuda_visible_devices');
    expect(checkOtherRuns(input({ needs: localOn('1,2'), otherRuns: [other('2')] }), facts())?.status).toBe(
      'error',
    );
  });

  it('lets runs on other GPUs be', () => {
    expect(checkOtherRuns(input({ needs: localOn('1'), otherRuns: [other('0')] }), facts())?.status).toBe(
      'ok',
    );
  });

  it('says nothing when no other run is live, or this host’s GPUs do not matter', () => {
    expect(checkOtherRuns(input(), facts())).toBeNull();
    expect(checkOtherRuns(input({ otherRuns: [other(null)] }), facts({ simulator: true }))).toBeNull();
    const external = externalHostNeeds();
    expect(checkOtherRuns(input({ needs: external, otherRuns: [other(null)] }), facts())).toBeNull();
  });
});

describe('checkServeFlags', () => {
  it('nothing to say without a reasoning parser or odd extra args', () => {
    expect(checkServeFlags(input(), facts())).toBeNull();
  });

  it('shows the reasoning flags for the detected version', () => {
    expect(checkServeFlags(input({ reasoningParser: 'qwen3' }), facts())).toMatchObject({
      status: 'ok',
      detail: '--reasoning-parser qwen3 for vLLM 0.10.1',
    });
  });

  it('warns about what the run will change, using the pin over the detected version', () => {
    const result = checkServeFlags(input({ reasoningParser: 'qwen3', vllmVersionPin: '0.8.5' }), facts());
    expect(result).toMatchObject({ status: 'warning', detail: expect.stringContaining('deepseek_r1') });
    const dropped = checkServeFlags(
      input({ reasoningParser: 'qwen3', extraArgs: ['--enable-reasoning'] }),
      facts(),
    );
    expect(dropped).toMatchObject({
      status: 'warning',
      detail: expect.stringContaining('dropped --enable-reasoning'),
    });
  });

  it('an error for what vLLM would reject', () => {
    const result = checkServeFlags(
      input({ extraArgs: ['--enable-reasoning'], vllmVersionPin: '0.8.5' }),
      facts(),
    );
    expect(result).toMatchObject({
      status: 'error',
      detail: expect.stringContaining('needs --reasoning-parser'),
    });
  });
});

describe('checkModel and checkWeights', () => {
  const local = {
    kind: 'local' as const,
    reference: './models/Qwen3-8B',
    path: '/plans/models/Qwen3-8B',
    exists: true,
    isDirectory: true,
    hasConfig: true,
    weightFiles: 5,
    weightBytes: 16.4e9,
  };

  it('a hub id is not checked', () => {
    expect(checkModel(input(), facts())).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('hub id'),
    });
    expect(checkWeights(input(), facts())).toBeNull();
  });

  it('a local folder with config.json and weights', () => {
    expect(checkModel(input(), facts({ model: local }))).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('5 weight file(s), 15.3 GiB'),
    });
    expect(checkWeights(input(), facts({ model: local }))?.status).toBe('ok');
  });

  it.each([
    [{ exists: false, isDirectory: false, hasConfig: false }, 'does not exist'],
    [{ hasConfig: false }, 'has no config.json'],
    [{ isDirectory: false, hasConfig: false }, 'is not a folder'],
    [{ weightFiles: 0, weightBytes: 0 }, 'no *.safetensors or *.bin'],
  ])('%j: error', (change, text) => {
    const result = checkModel(input(), facts({ model: { ...local, ...change } }));
    expect(result).toMatchObject({ status: 'error', detail: expect.stringContaining(text) });
  });

  it('weights that do not fit one GPU: error; near the budget: warning; split over two: ok', () => {
    const big = { ...local, weightBytes: 75 * GIB };
    expect(checkWeights(input(), facts({ model: big }))?.status).toBe('error');
    expect(checkWeights(input(), facts({ model: { ...local, weightBytes: 60 * GIB } }))?.status).toBe(
      'warning',
    );
    const two = gpuResult([h100(0), h100(1)]);
    expect(checkWeights(input({ tensorParallelSize: 2 }), facts({ model: big, gpu: two }))?.status).toBe(
      'ok',
    );
  });
});

describe('checkPort, checkDisk', () => {
  it('port statuses', () => {
    const port = (status: 'free' | 'in-use' | 'denied' | 'unavailable') => ({
      host: '127.0.0.1',
      port: 8000,
      status,
      detail: 'x',
    });
    expect(checkPort(input(), facts())).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('auto'),
    });
    expect(checkPort(input({ port: 8000 }), facts({ port: port('free') }))?.status).toBe('ok');
    expect(checkPort(input({ port: 8000 }), facts({ port: port('in-use') }))).toMatchObject({
      status: 'error',
      fix: expect.stringContaining("ss -ltnp 'sport = :8000'"),
    });
    expect(checkPort(input({ port: 80 }), facts({ port: port('denied') }))?.status).toBe('error');
    expect(checkPort(input({ needs: externalHostNeeds() }), facts())).toBeNull();
  });

  it.each([
    [100 * GIB, 'ok'],
    [4 * GIB, 'warning'],
    [300 * 1024 * 1024, 'error'],
  ])('%d bytes free: %s', (bytes, status) => {
    expect(
      checkDisk(input(), facts({ disk: { path: '/data', availableBytes: bytes, error: null } }))?.status,
    ).toBe(status);
  });

  it('refuses an output folder evalrig cannot write', () => {
    const disk = { path: '/data', availableBytes: 100 * GIB, error: null, notWritable: 'EROFS' };
    const result = checkDisk(input(), facts({ disk }));
    expect(result).toMatchObject({
      status: 'error',
      detail: 'cannot write the run folder under /data (EROFS)',
    });
    expect(result?.fix).toContain('--output-dir');
  });
});

describe('checkVllm, checkEvalscope', () => {
  it('reports the version and the rules that follow from it', () => {
    expect(checkVllm(input(), facts())).toMatchObject({
      status: 'ok',
      detail:
        'vLLM 0.10.1 (vllm --version: 0.10.1); reasoning flags: --reasoning-parser; reasoning field: reasoning_content',
    });
  });

  it('missing: error for a local plan, warning on a machine check, not checked for docker', () => {
    const missing = facts({ vllm: { version: null, detail: 'vllm: command not found' } });
    expect(checkVllm(input(), missing)?.status).toBe('error');
    expect(checkVllm(machinePreflightInput('/tmp', {}), missing)?.status).toBe('warning');
    const docker = dockerHostNeeds(
      server({ runtime: 'docker', docker: { image: 'vllm/vllm-openai:v0.11.0' } }),
    );
    expect(checkVllm(input({ needs: docker }), facts({ vllm: null }))?.status).toBe('skipped');
  });

  it('a pin that disagrees with the installed vLLM', () => {
    expect(checkVllm(input({ vllmVersionPin: '0.9.2' }), facts())).toMatchObject({
      status: 'warning',
      fix: 'Set server.vllm_version to 0.10.1, or remove it to detect the version at each run.',
    });
  });

  it('older than 0.8.5', () => {
    const old = facts({ vllm: { version: version('0.7.3'), source: 'cli', detail: 'x' } });
    expect(checkVllm(input(), old)?.status).toBe('warning');
  });

  it('EvalScope: needed → error, machine → warning, not used → skipped', () => {
    const missing = facts({
      evalscope: { command: 'evalscope', found: false, version: null, detail: 'not found' },
    });
    expect(checkEvalscope(input({ needsEvalscope: true }), missing)?.status).toBe('error');
    expect(checkEvalscope(machinePreflightInput('/tmp', {}), missing)?.status).toBe('warning');
    expect(checkEvalscope(input(), missing)?.status).toBe('skipped');
  });

  it('EvalScope not probed (a plan that does not need it): no line at all', () => {
    expect(checkEvalscope(input(), facts({ evalscope: null }))).toBeNull();
    expect(runChecks(input(), facts({ evalscope: null })).map((r) => r.id)).not.toContain('evalscope');
  });

  it('a four-part pin equal to the installed 0.10.1.1 is fine; 0.10.1 against 0.10.1.1 is not', () => {
    const installed = facts({
      vllm: { version: version('0.10.1.1'), source: 'cli', detail: 'vllm --version: 0.10.1.1' },
    });
    expect(checkVllm(input({ vllmVersionPin: '0.10.1.1' }), installed)?.status).toBe('ok');
    expect(checkVllm(input({ vllmVersionPin: '0.10.1' }), installed)).toMatchObject({
      status: 'warning',
      detail: expect.stringContaining('the flags follow the pin'),
      fix: 'Set server.vllm_version to 0.10.1.1, or remove it to detect the version at each run.',
    });
  });

  it('the flags follow the pin, as the run renders them (prepareServe uses the pin too)', () => {
    // Installed 0.10.1.1, pinned 0.9.2: the run passes --enable-reasoning through, so the check must judge by 0.9.2.
    const pinned = input({
      vllmVersionPin: '0.9.2',
      reasoningParser: 'qwen3',
      extraArgs: ['--enable-reasoning'],
    });
    const installed = facts({ vllm: { version: version('0.10.1.1'), source: 'cli', detail: 'x' } });
    expect(checkServeFlags(pinned, installed)).toMatchObject({
      status: 'warning',
      detail: expect.stringContaining('vLLM 0.9.2: --enable-reasoning is deprecated'),
    });
    const fourPart = input({ vllmVersionPin: '0.10.1.1', reasoningParser: 'qwen3' });
    expect(checkServeFlags(fourPart, facts())).toMatchObject({
      status: 'ok',
      detail: '--reasoning-parser qwen3 for vLLM 0.10.1.1',
    });
  });
});

describe('preflightInputFromPlan', () => {
  function plan(server: Record<string, unknown>) {
    return PlanSchema.parse({
      name: 'p',
      server: { model: 'Qwen/Qwen3-8B', ...server },
      evals: [{ name: 'iq', backend: 'native', dataset: 'iquiz', dataset_path: 'data/iquiz' }],
    });
  }

  it('applies vLLM defaults; output.dir is taken from the working directory, as evalrig plan writes it', () => {
    const local = plan({});
    const needs = localHostNeeds(local.server, {});
    expect(preflightInputFromPlan(local, '/plans', needs, { HOME: '/home/me' })).toMatchObject({
      needs,
      absentIs: 'error',
      gpuMemoryUtilization: 0.9,
      tensorParallelSize: 1,
      outputDir: resolve(process.cwd(), 'outputs'),
      port: 'auto',
    });
  });

  it('reads the plan fields first, then extra_args', () => {
    const fromFields = plan({ gpu_memory_utilization: 0.8, tensor_parallel_size: 2, vllm_version: '0.9.2' });
    const needs = localHostNeeds(fromFields.server, {});
    expect(preflightInputFromPlan(fromFields, '/plans', needs, {})).toMatchObject({
      gpuMemoryUtilization: 0.8,
      tensorParallelSize: 2,
      vllmVersionPin: '0.9.2',
    });
    const fromArgs = plan({ extra_args: ['--gpu_memory_utilization=0.7', '-tp', '4'] });
    expect(preflightInputFromPlan(fromArgs, '/plans', needs, {})).toMatchObject({
      gpuMemoryUtilization: 0.7,
      tensorParallelSize: 4,
    });
  });

  it('no eval needs EvalScope today: every backend is native', () => {
    expect(preflightInputFromPlan(plan({}), '/plans', externalHostNeeds(), {}).needsEvalscope).toBe(false);
  });

  it("output.dir under ~ goes to the home folder: HOME from the environment given, else the user's", () => {
    const home = plan({});
    home.output.dir = '~/runs';
    const needs = localHostNeeds(home.server, {});
    expect(preflightInputFromPlan(home, '/plans', needs, { HOME: '/home/me' }).outputDir).toBe(
      '/home/me/runs',
    );
    expect(preflightInputFromPlan(home, '/plans', needs, {}).outputDir).toBe(join(homedir(), 'runs'));
  });
});

describe('what each runtime needs from this host', () => {
  const image = 'vllm/vllm-openai:v0.11.0';

  function docker(gpus?: unknown) {
    return dockerHostNeeds(
      server({ runtime: 'docker', docker: { image, ...(gpus === undefined ? {} : { gpus }) } }),
    );
  }

  it('local: the GPUs of cuda_visible_devices, else server.env, else our environment; vLLM, model and port here', () => {
    expect(localHostNeeds(server({ cuda_visible_devices: [2, 3] }), { CUDA_VISIBLE_DEVICES: '0' })).toEqual({
      gpus: { selection: '2,3' },
      vllm: 'this-host',
      modelOnHost: true,
      portOnHost: true,
    });
    const fromServerEnv = server({ env: { CUDA_VISIBLE_DEVICES: '3' } });
    expect(localHostNeeds(fromServerEnv, { CUDA_VISIBLE_DEVICES: '1' }).gpus).toEqual({ selection: '3' });
    expect(localHostNeeds(server(), { CUDA_VISIBLE_DEVICES: '1' }).gpus).toEqual({ selection: '1' });
    expect(localHostNeeds(server(), {}).gpus).toEqual({ selection: null });
  });

  it.each([
    [undefined, null],
    ['all', null],
    [2, '0,1'],
    [[1, 'GPU-00000000'], '1,GPU-00000000'],
  ])('docker: docker.gpus %j → GPUs %j of this host', (gpus, selection) => {
    expect(docker(gpus).gpus).toEqual({ selection });
  });

  it("docker: no GPU check for docker.gpus none; vLLM is the image's, only the pin checks the flags", () => {
    const none = input({ needs: docker('none') });
    expect(checkGpus(none, facts({ gpu: null }))).toMatchObject({
      status: 'skipped',
      detail: 'not applicable: docker.gpus is none, the container gets no GPU',
    });
    expect(checkGpuMemory(none, facts())).toEqual([]);
    const container = input({ needs: docker(), reasoningParser: 'qwen3' });
    expect(checkVllm(container, facts())).toMatchObject({
      status: 'skipped',
      detail: 'comes from the Docker image; not checked on this host',
    });
    expect(checkServeFlags(container, facts())).toBeNull();
    expect(checkServeFlags({ ...container, vllmVersionPin: '0.10.1' }, facts())).toMatchObject({
      status: 'ok',
      detail: '--reasoning-parser qwen3 for vLLM 0.10.1',
    });
    expect(checkModel(container, facts())).toBeNull();
    const port = { host: '127.0.0.1', port: 8000, status: 'in-use' as const, detail: '' };
    expect(checkPort({ ...container, port: 8000 }, facts({ port }))?.status).toBe('error');
  });

  it('external: nothing of this host serves it, so no GPU, vLLM, flags, model or port checks', () => {
    const external = input({
      needs: externalHostNeeds(),
      reasoningParser: 'qwen3',
      vllmVersionPin: '0.10.1',
    });
    const ids = runChecks({ ...external, port: 8000 }, facts({ gpu: null, vllm: null })).map((r) => r.id);
    expect(ids).toEqual(['gpus', 'disk', 'evalscope', 'python']);
  });

  it('no plan: our CUDA_VISIBLE_DEVICES, the vLLM on PATH, no model or port', () => {
    expect(machinePreflightInput('/tmp', { CUDA_VISIBLE_DEVICES: '1' })).toMatchObject({
      needs: { gpus: { selection: '1' }, vllm: 'this-host', modelOnHost: false, portOnHost: false },
      absentIs: 'warning',
      executable: 'vllm',
    });
  });
});

describe('expandHome and resolvePlanPath', () => {
  it.each([
    ['~', '/home/me'],
    ['~/models/qwen', '/home/me/models/qwen'],
    ['~/', '/home/me'],
    ['~other/models', '~other/models'],
    ['./~/x', './~/x'],
    ['/abs/~/x', '/abs/~/x'],
    ['models', 'models'],
  ])('expandHome(%j) → %j', (path, expected) => {
    expect(expandHome(path, '/home/me')).toBe(expected);
  });

  it("defaults to the user's home folder", () => {
    expect(expandHome('~/x')).toBe(join(homedir(), 'x'));
  });

  it('resolvePlanPath: ~ is the home folder, relative paths start at the plan folder', () => {
    expect(resolvePlanPath('~/m', '/plans', '/home/me')).toBe('/home/me/m');
    expect(resolvePlanPath('~/m', '/plans', undefined)).toBe(join(homedir(), 'm'));
    expect(resolvePlanPath('m', '/plans', '/home/me')).toBe('/plans/m');
    expect(resolvePlanPath('/abs/m', '/plans', '/home/me')).toBe('/abs/m');
  });
});

describe('isSimulatorExecutable', () => {
  it.each([
    [['vllm-sim'], true],
    [['../sim/bin/vllm', '/repo/sim/bin/vllm'], true],
    [['vllm', '/home/me/.local/bin/vllm', '/evalrig/dist/sim/src/main.js'], true],
    [['vllm', '/opt/venv/bin/vllm'], false],
    [['/evalrig/simulations/vllm'], false],
  ])('%j → %s', (paths, expected) => {
    expect(isSimulatorExecutable(paths, '/evalrig')).toBe(expected);
  });
});

describe('runChecks', () => {
  it('orders the checks: hardware, server, model, resources, tools', () => {
    const ids = runChecks(
      input({ port: 8000 }),
      facts({ port: { host: '127.0.0.1', port: 8000, status: 'free', detail: '' } }),
    ).map((r) => r.id);
    expect(ids).toEqual([
      'gpus',
      'driver',
      'gpu-memory:0',
      'vllm',
      'model',
      'port',
      'disk',
      'evalscope',
      'python',
    ]);
  });
});
