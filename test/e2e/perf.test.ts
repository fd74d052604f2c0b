import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PerfLevel } from '../../src/eval/perf/types.js';
import type { RunSummary } from '../../src/run/summary.js';
import { expectServerGone, readJson, runDirFrom, startCli, writeSimPlan } from './cli-helpers.js';

const TTFT_MS = 50;
const TOKEN_LATENCY_MS = 10;

describe('a perf evaluation against the simulator', () => {
  it('measures the configured TTFT and token latency, one level per concurrency', async () => {
    const { file } = writeSimPlan({
      sim: { VLLM_SIM_TTFT_MS: String(TTFT_MS), VLLM_SIM_TOKEN_LATENCY_MS: String(TOKEN_LATENCY_MS) },
      evals: [
        {
          name: 'load',
          backend: 'perf',
          concurrency: [1, 4],
          requests: 8,
          warmup: 1,
          prompts: { input_tokens: 64, output_tokens: 24 },
        },
      ],
    });
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toMatch(/Concurrency\s*│\s*OK\/Num\s*│\s*Req\/s/);
    const runDir = runDirFrom(result.all);
    expectServerGone(runDir);
    expect(existsSync(join(runDir, 'evals/load/perf.json'))).toBe(true);
    const { levels } = readJson<{ levels: PerfLevel[] }>(join(runDir, 'evals/load/perf.json'));
    expect(levels.map((level) => level.max_concurrency)).toEqual([1, 4]);
    for (const level of levels) {
      expect(level).toMatchObject({ num_prompts: 8, completed: 8, failed: 0, failures: [] });
      // Input lengths are calibrated through POST /tokenize: exact in the server's own count.
      expect(level.total_input_tokens).toBe(8 * 64);
      expect(level.total_output_tokens).toBe(8 * 24);
      // Generous bounds for a busy 2-core machine; bench/perf-accuracy.ts holds the tight targets.
      expect(level.ttft_ms.median).toBeGreaterThan(TTFT_MS * 0.9);
      expect(level.ttft_ms.median).toBeLessThan(TTFT_MS * 2);
      expect(level.itl_ms.median).toBeGreaterThan(TOKEN_LATENCY_MS * 0.8);
      expect(level.itl_ms.median).toBeLessThan(TOKEN_LATENCY_MS * 2);
      expect(level.server).toMatchObject({ requests: 8, prompt_tokens: 8 * 64, generation_tokens: 8 * 24 });
    }
    const summary = readJson<RunSummary>(join(runDir, 'summary.json'));
    expect(summary.evals[0]).toMatchObject({
      name: 'load',
      backend: 'perf',
      status: 'ok',
      score: 1,
      num: 16,
    });
    expect(summary.evals[0]?.perf?.levels).toHaveLength(2);
  }, 60_000);
});
