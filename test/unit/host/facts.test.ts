import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runChecks } from '../../../src/host/checks/run-checks.js';
import type { PreflightInput } from '../../../src/host/checks/types.js';
import { gatherHostFacts } from '../../../src/host/facts.js';
import { preflightInput } from '../helpers.js';
import { FAKE_NVIDIA_SMI, executable, useHostWorkspace } from '../host-workspace.js';

const workspace = useHostWorkspace();

function local(overrides: Partial<PreflightInput>): PreflightInput {
  return preflightInput({
    executable: './venv/bin/vllm',
    model: './models/tiny',
    outputDir: join(workspace.dir(), 'out'),
    baseDir: workspace.dir(),
    ...overrides,
  });
}

describe('gatherHostFacts', () => {
  const env = { ...process.env, FAKE_NVIDIA_SMI_SCENARIO: 'orphan-enginecore' };

  it('measures GPUs, vLLM, the model folder and the disk', async () => {
    const facts = await gatherHostFacts(local({}), { nvidiaSmi: FAKE_NVIDIA_SMI, env });
    expect(facts.simulator).toBe(false);
    expect(facts.gpu).toMatchObject({ ok: true, processes: [{ pid: 48213 }] });
    expect(facts.vllm).toMatchObject({ version: { raw: '0.9.2' }, source: 'cli' });
    expect(facts.model).toMatchObject({
      kind: 'local',
      exists: true,
      hasConfig: true,
      weightFiles: 1,
      weightBytes: 4096,
    });
    expect(facts.disk?.availableBytes).toBeGreaterThan(0);
    expect(facts.disk?.path).toBe(workspace.dir());
  });

  it('the simulator: no GPU query at all', async () => {
    const input = local({ executable: './sim/bin/vllm' });
    const facts = await gatherHostFacts(input, {
      nvidiaSmi: FAKE_NVIDIA_SMI,
      env: { ...env, FAKE_NVIDIA_SMI_SCENARIO: 'driver-not-loaded' },
    });
    expect(facts).toMatchObject({ simulator: true, gpu: null, vllm: { version: { raw: '0.10.1' } } });
    expect(runChecks(input, facts).find((r) => r.id === 'gpus')?.status).toBe('skipped');
  });

  it('Python is asked only where a Python program of the plan runs: a real vLLM or EvalScope', async () => {
    const marker = join(workspace.dir(), 'python.calls');
    const python = executable(
      join(workspace.dir(), 'counting-python'),
      `echo "$@" >> ${marker}; echo Python 3.11.7`,
    );
    // Version detection may ask the plan's Python too, with other arguments: only the probe's count.
    const versionProbes = () =>
      (existsSync(marker) ? readFileSync(marker, 'utf8').split('\n') : []).filter(
        (line) => line === '--version',
      ).length;
    const simulator = local({ executable: './sim/bin/vllm', python });
    const facts = await gatherHostFacts(simulator, { nvidiaSmi: FAKE_NVIDIA_SMI, env });
    expect(facts.python).toBeNull();
    expect(versionProbes()).toBe(0);
    expect(runChecks(simulator, facts).find((r) => r.id === 'python')).toMatchObject({ status: 'skipped' });

    const withEvalscope = await gatherHostFacts(
      { ...simulator, needsEvalscope: true },
      { nvidiaSmi: FAKE_NVIDIA_SMI, env },
    );
    expect(withEvalscope.python).toMatchObject({ found: true, version: '3.11.7' });
    const realVllm = await gatherHostFacts(local({ python }), { nvidiaSmi: FAKE_NVIDIA_SMI, env });
    expect(realVllm.python).toMatchObject({ found: true, version: '3.11.7' });
    expect(versionProbes()).toBe(2);
  });

  it('takes a detection still running when it comes, and detects itself when it brings none', async () => {
    const marker = join(workspace.dir(), 'late-vllm.calls');
    executable(join(workspace.dir(), 'late', 'vllm'), `echo called >> ${marker}; echo 0.9.2`);
    const input = local({ executable: './late/vllm' });
    const detection = { version: null, detail: 'vllm: command not found' };
    const late = new Promise<typeof detection>((resolve) => setTimeout(() => resolve(detection), 100));
    const facts = await gatherHostFacts(input, { nvidiaSmi: FAKE_NVIDIA_SMI, env, vllmDetection: late });
    expect(facts.vllm).toBe(detection);
    expect(existsSync(marker)).toBe(false);

    const none = await gatherHostFacts(input, {
      nvidiaSmi: FAKE_NVIDIA_SMI,
      env,
      vllmDetection: Promise.resolve(undefined),
    });
    expect(none.vllm).toMatchObject({ version: { raw: '0.9.2' }, source: 'cli' });
    expect(readFileSync(marker, 'utf8')).toBe('called\n');
  });

  it('a port someone holds', async () => {
    const holder: Server = createServer();
    await new Promise<void>((listening) => holder.listen(0, '127.0.0.1', listening));
    const address = holder.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const facts = await gatherHostFacts(local({ port }), { nvidiaSmi: FAKE_NVIDIA_SMI, env });
      expect(facts.port).toMatchObject({ port, status: 'in-use' });
    } finally {
      holder.close();
    }
  });

  it('reuses a detection the run made already: vLLM is not started again', async () => {
    const marker = join(workspace.dir(), 'counting-vllm.calls');
    executable(join(workspace.dir(), 'counting', 'vllm'), `echo called >> ${marker}; echo 0.9.2`);
    const vllmDetection = {
      version: { major: 0, minor: 10, patch: 1, more: [1], raw: '0.10.1.1' },
      source: 'cli' as const,
      detail: './counting/vllm --version: 0.10.1.1',
    };
    const input = local({ executable: './counting/vllm' });
    const facts = await gatherHostFacts(input, { nvidiaSmi: FAKE_NVIDIA_SMI, env, vllmDetection });
    expect(facts.vllm).toBe(vllmDetection);
    expect(existsSync(marker)).toBe(false);

    // A failed detection is reused too: it asked vLLM and found nothing.
    const failed = { version: null, detail: 'vllm: command not found' };
    const again = await gatherHostFacts(input, { nvidiaSmi: FAKE_NVIDIA_SMI, env, vllmDetection: failed });
    expect(again.vllm).toBe(failed);
    expect(existsSync(marker)).toBe(false);

    // Without one, vLLM is asked.
    const fresh = await gatherHostFacts(input, { nvidiaSmi: FAKE_NVIDIA_SMI, env });
    expect(fresh.vllm).toMatchObject({ version: { raw: '0.9.2' }, source: 'cli' });
    expect(readFileSync(marker, 'utf8')).toBe('called\n');
  });

  it('a detection that only read the pin is not reused: the check compares the pin with what is installed', async () => {
    const input = local({ vllmVersionPin: '0.10.1.1' });
    const pinned = {
      version: { major: 0, minor: 10, patch: 1, more: [1], raw: '0.10.1.1' },
      source: 'pinned' as const,
      detail: 'pinned by server.vllm_version: 0.10.1.1',
    };
    const facts = await gatherHostFacts(input, { nvidiaSmi: FAKE_NVIDIA_SMI, env, vllmDetection: pinned });
    expect(facts.vllm).toMatchObject({ version: { raw: '0.9.2' }, source: 'cli' });
    expect(runChecks(input, facts).find((r) => r.id === 'vllm')).toMatchObject({
      status: 'warning',
      fix: 'Set server.vllm_version to 0.9.2, or remove it to detect the version at each run.',
    });
  });

  it('EvalScope is probed only when asked or needed', async () => {
    const marker = join(workspace.dir(), 'evalscope.calls');
    const bin = join(workspace.dir(), 'evalscope-bin');
    executable(
      join(bin, 'evalscope'),
      `echo called >> ${marker}; echo "2025-08-20 10:00:00 - evalscope - INFO - starting"; echo "evalscope 1.0.0"`,
    );
    const withEvalscope = { ...env, PATH: `${bin}:${process.env['PATH'] ?? ''}` };
    const plain = await gatherHostFacts(local({}), { nvidiaSmi: FAKE_NVIDIA_SMI, env: withEvalscope });
    expect(plain.evalscope).toBeNull();
    expect(existsSync(marker)).toBe(false);

    const asked = await gatherHostFacts(local({}), {
      nvidiaSmi: FAKE_NVIDIA_SMI,
      env: withEvalscope,
      probeEvalscope: true,
    });
    expect(asked.evalscope).toEqual({
      command: 'evalscope',
      found: true,
      version: '1.0.0',
      detail: 'evalscope --version',
    });
    const needed = await gatherHostFacts(local({ needsEvalscope: true }), {
      nvidiaSmi: FAKE_NVIDIA_SMI,
      env: withEvalscope,
    });
    expect(needed.evalscope?.version).toBe('1.0.0');
    expect(readFileSync(marker, 'utf8')).toBe('called\ncalled\n');
  });

  it('EvalScope older than 1.0 answers through its package metadata', async () => {
    const bin = join(workspace.dir(), 'old-evalscope-bin');
    executable(join(bin, 'evalscope'), 'echo "usage: evalscope [-h] {eval,perf}" >&2; exit 2');
    const python = executable(join(bin, 'python-with-evalscope'), 'echo 0.17.1.post1');
    const facts = await gatherHostFacts(local({ python }), {
      nvidiaSmi: FAKE_NVIDIA_SMI,
      env: { ...env, PATH: `${bin}:${process.env['PATH'] ?? ''}` },
      probeEvalscope: true,
    });
    expect(facts.evalscope).toEqual({
      command: python,
      found: true,
      version: '0.17.1.post1',
      detail: `${python} package metadata`,
    });
  });

  it('a hub id is not looked for on disk', async () => {
    const facts = await gatherHostFacts(local({ model: 'Qwen/Qwen3-8B' }), {
      nvidiaSmi: FAKE_NVIDIA_SMI,
      env,
    });
    expect(facts.model).toEqual({ kind: 'hub', reference: 'Qwen/Qwen3-8B' });
  });
});
