import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAllSims, startReadySim } from '../sim/helpers.js';
import { readJson, runDirFrom, startCli, writeSimPlan } from './cli-helpers.js';
import { DEMO_QUIZ } from '../paths.js';

afterAll(killAllSims);

describe('runtime external', () => {
  it('evaluates a running endpoint, finds the served model itself, and leaves the server running', async () => {
    const sim = await startReadySim({
      model: '/models/Qwen3-8B',
      args: [
        '--served-model-name',
        'Qwen3-8B',
        '--reasoning-parser',
        'qwen3',
        '--api-key',
        'sk-external-key-42',
      ],
      env: { VLLM_SIM_ANSWER_KEY: DEMO_QUIZ, VLLM_SIM_ACCURACY: '1' },
    });
    const { file } = writeSimPlan({
      server: {
        runtime: 'external',
        base_url: `${sim.baseUrl}/v1`,
        api_key: 'sk-external-key-42',
        model: undefined,
        served_model_name: undefined,
        executable: undefined,
      },
      eval: { limit: 3 },
    });
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(0);
    const summary = readJson<{
      model: string;
      evals: { score: number; num: number }[];
      teardown: { outcome: string };
    }>(join(runDirFrom(result.all), 'summary.json'));
    expect(summary).toMatchObject({
      model: 'Qwen3-8B',
      evals: [{ num: 6, score: 1 }],
      teardown: { outcome: 'none' },
    });
    expect(result.all).not.toContain('sk-external-key-42');
    const health = await fetch(`${sim.baseUrl}/health`);
    expect(health.status).toBe(200);
  });

  it('a wrong api key fails readiness with a clear message', async () => {
    const sim = await startReadySim({ args: ['--api-key', 'right-key-123'] });
    const { file } = writeSimPlan({
      server: {
        runtime: 'external',
        base_url: sim.baseUrl,
        api_key: 'wrong-key-456',
        model: undefined,
        served_model_name: undefined,
        executable: undefined,
      },
    });
    const result = await startCli(['plan', file]);
    expect(result.exitCode).toBe(1);
    expect(result.all).toContain('401 Unauthorized');
  });
});
