import { describe, expect, it } from 'vitest';
import { runPreflight } from '../../../src/run/preflight.js';
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
