import { describe, expect, it, vi } from 'vitest';
import { ExitCode, UserError } from '../../../src/errors.js';
import { preflightBeforeRun, runPreflight } from '../../../src/run/preflight.js';
import { prepareServe } from '../../../src/run/prepare.js';
import { loadPlan } from '../../../src/plan/load.js';
import { FAKE_NVIDIA_SMI, useHostWorkspace } from '../host-workspace.js';

const workspace = useHostWorkspace();
const { writePlan } = workspace;

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

describe('preflightBeforeRun', () => {
  const options = { skip: false, warn: () => undefined, signal: new AbortController().signal };

  it('a flag the detected vLLM rejects comes first, before any preflight line', async () => {
    const file = writePlan('refused-flags', 'executable: ./missing/vllm\nmodel: ./missing/model');
    const loaded = loadPlan(file);
    const refused = new UserError("The plan's server flags do not suit vLLM 0.9.2");
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await expect(preflightBeforeRun(loaded, Promise.reject(refused), options)).rejects.toBe(refused);
      expect(printed).not.toHaveBeenCalled();
    } finally {
      printed.mockRestore();
    }
  });

  it('refuses what the checks find, once the serve plan is ready, with its detection reused', async () => {
    const file = writePlan('refused-host', 'executable: ./missing/vllm\nmodel: ./missing/model');
    const loaded = loadPlan(file);
    const serve = prepareServe(loaded);
    const printed = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    try {
      await expect(preflightBeforeRun(loaded, serve, options)).rejects.toMatchObject({
        exitCode: ExitCode.preflightRefused,
      });
      const table = printed.mock.calls.map((call) => String(call[0])).join('\n');
      expect(table).toContain((await serve).detection?.detail ?? 'no detection');
      expect(table).toContain('missing/model');
    } finally {
      printed.mockRestore();
    }
  });
});
