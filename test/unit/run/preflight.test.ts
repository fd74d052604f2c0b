import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPreflight } from '../../../src/run/preflight.js';
import { loadPlan } from '../../../src/plan/load.js';
import { FIXTURES } from '../../paths.js';

const FAKE_NVIDIA_SMI = join(FIXTURES, 'nvidia-smi', 'fake-nvidia-smi');

let dir: string;

function executable(path: string, body: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** A plan folder with a fake vLLM, a small model folder and an output folder. */
function writePlan(name: string, server: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      'server:',
      ...server.split('\n').map((line) => `  ${line}`),
      'evals:',
      '  - {name: iq, backend: native, dataset: iquiz, dataset_path: data}',
      'output: {dir: out}',
      '',
    ].join('\n'),
  );
  return file;
}

beforeAll(() => {
  chmodSync(FAKE_NVIDIA_SMI, 0o755);
  dir = mkdtempSync(join(tmpdir(), 'evalrig-doctor-'));
  executable(join(dir, 'venv', 'bin', 'vllm'), '[ "$1" = "--version" ] && echo 0.9.2');
  executable(join(dir, 'sim', 'bin', 'vllm'), '[ "$1" = "--version" ] && echo 0.10.1');
  mkdirSync(join(dir, 'models', 'tiny'), { recursive: true });
  writeFileSync(join(dir, 'models', 'tiny', 'config.json'), '{}');
  writeFileSync(join(dir, 'models', 'tiny', 'model.safetensors'), Buffer.alloc(4096));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('runPreflight', () => {
  it("takes the run's vLLM detection and leaves EvalScope out, as `evalrig plan` runs it", async () => {
    const file = writePlan('preflight', 'executable: ./missing/vllm\nmodel: ./models/tiny');
    const { plan, dir: planDir } = loadPlan(file);
    const vllmDetection = {
      version: { major: 0, minor: 10, patch: 1, more: [1], raw: '0.10.1.1' },
      source: 'cli' as const,
      detail: 'from prepareServe',
    };
    const env = { ...process.env, FAKE_NVIDIA_SMI_SCENARIO: 'free-h200' };
    const results = await runPreflight(plan, { planDir, nvidiaSmi: FAKE_NVIDIA_SMI, env, vllmDetection });
    const byId = Object.fromEntries(results.map((r) => [r.id, r]));
    expect(byId['vllm']).toMatchObject({
      status: 'ok',
      detail: expect.stringContaining('vLLM 0.10.1.1 (from prepareServe)'),
    });
    expect(byId['evalscope']).toBeUndefined();

    const doctor = await runPreflight(plan, {
      planDir,
      nvidiaSmi: FAKE_NVIDIA_SMI,
      env,
      vllmDetection,
      probeEvalscope: true,
    });
    expect(doctor.map((r) => r.id)).toContain('evalscope');
  });
});
