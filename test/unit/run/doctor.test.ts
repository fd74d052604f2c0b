import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CheckResult } from '../../../src/host/checks/types.js';
import { CLI, ROOT } from '../../paths.js';
import { FAKE_NVIDIA_SMI, useHostWorkspace } from '../host-workspace.js';

const workspace = useHostWorkspace();
const { writePlan } = workspace;

describe('evalrig doctor as a process', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist', 'src', 'commands', 'doctor.js'))) {
      throw new Error('dist/ has no doctor command: run `npm run build` first (`npm test` does).');
    }
  });

  function doctor(args: string[], scenario: string) {
    return execa('node', [CLI, 'doctor', '--nvidia-smi', FAKE_NVIDIA_SMI, ...args], {
      reject: false,
      env: { FAKE_NVIDIA_SMI_SCENARIO: scenario, NO_COLOR: '1' },
    });
  }

  function checks(stdout: string): Record<string, CheckResult> {
    const parsed = JSON.parse(stdout) as { checks: CheckResult[] };
    return Object.fromEntries(parsed.checks.map((check) => [check.id, check]));
  }

  it('a machine with a free H200: exit 0', async () => {
    const result = await doctor([], 'free-h200');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('evalrig doctor: this machine (no plan given)');
    expect(result.stdout).toMatch(/✓ {2}GPUs +1 GPU \(0: NVIDIA H200\)/);
    expect(result.stdout).toContain('driver 580.95.05, CUDA 13.0');
  });

  it('a driver that is not loaded: exit 4 and the reason', async () => {
    const result = await doctor([], 'driver-not-loaded');
    expect(result.exitCode).toBe(4);
    expect(result.stdout).toContain("couldn't communicate with the NVIDIA driver");
    expect(result.stdout).toContain('fix: Load or reinstall the driver');
  });

  it('a driver too old for vLLM: exit 4', async () => {
    const result = await doctor(['--json'], 'old-driver');
    expect(result.exitCode).toBe(4);
    expect(checks(result.stdout)['driver']).toMatchObject({
      status: 'error',
      detail: expect.stringContaining('CUDA 11.8'),
    });
  });

  it('a plan on a GPU held by an orphan engine: exit 4, naming the PID', async () => {
    const plan = writePlan(
      'held',
      'executable: ./venv/bin/vllm\nmodel: ./models/tiny\nreasoning_parser: qwen3',
    );
    const result = await doctor([plan, '--json'], 'orphan-enginecore');
    expect(result.exitCode).toBe(4);
    const byId = checks(result.stdout);
    expect(byId['gpu-memory:0']).toMatchObject({
      status: 'error',
      fix: expect.stringContaining('Kill 48213'),
    });
    expect(byId['vllm']).toMatchObject({ status: 'ok', detail: expect.stringContaining('vLLM 0.9.2') });
    expect(byId['model']?.status).toBe('ok');
  });

  it('the same plan on a free H200: exit 0', async () => {
    const plan = writePlan('free', 'executable: ./venv/bin/vllm\nmodel: ./models/tiny');
    const result = await doctor([plan], 'free-h200');
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
  });

  it('a plan on the simulator needs no GPU', async () => {
    const plan = writePlan('sim', 'executable: ./sim/bin/vllm\nmodel: Qwen/Qwen3-8B');
    const result = await doctor([plan, '--json'], 'no-gpu');
    expect(result.exitCode).toBe(0);
    expect(checks(result.stdout)['gpus']).toMatchObject({
      status: 'skipped',
      detail: expect.stringContaining('simulator'),
    });
    // A plan without EvalScope evals gets no EvalScope check; doctor without a plan reports it.
    expect(checks(result.stdout)['evalscope']).toBeUndefined();
    expect(checks((await doctor(['--json'], 'no-gpu')).stdout)['evalscope']).toBeDefined();
  });

  it('an invalid plan and a bad option are user errors', async () => {
    const plan = writePlan('bad', 'executable: ./venv/bin/vllm');
    const invalid = await doctor([plan], 'free-h200');
    expect(invalid.exitCode).toBe(2);
    expect(invalid.stderr).toContain('runtime local needs model');
    const option = await doctor(['--bogus'], 'free-h200');
    expect(option.exitCode).toBe(2);
    expect(option.stderr).toContain("Unknown option '--bogus'");
  });
});
