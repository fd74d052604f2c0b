import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PerfLevel } from '../../src/eval/perf/types.js';
import type { RunSummary } from '../../src/run/summary.js';
import { expectServerGone, readJson, runDirFrom, startCli, writeSimPlan } from './cli-helpers.js';
import { DEMO_QUIZ } from '../paths.js';

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
      // What is measured is the server's own delays: never less than them, and the first token's far below the
      // whole answer's 50 + 23 × 10 ms. Wide bounds for a busy 2-core machine; bench/perf-accuracy.ts holds the
      // accuracy targets.
      expect(level.ttft_ms.median).toBeGreaterThan(TTFT_MS * 0.9);
      expect(level.ttft_ms.median).toBeLessThan(TTFT_MS * 4);
      expect(level.itl_ms.median).toBeGreaterThan(TOKEN_LATENCY_MS * 0.8);
      expect(level.itl_ms.median).toBeLessThan(TOKEN_LATENCY_MS * 4);
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

  it('sends for a duration per level, prompts from a JSONL file and from a dataset', async () => {
    const { file, dir } = writeSimPlan({
      sim: { VLLM_SIM_TTFT_MS: '20', VLLM_SIM_TOKEN_LATENCY_MS: '5' },
      evals: [
        {
          name: 'timed',
          backend: 'perf',
          concurrency: [2, 4],
          duration: '1.5s',
          prompts: { file: 'prompts.jsonl', output_tokens: 12 },
        },
        {
          name: 'quiz',
          backend: 'perf',
          requests: 5,
          prompts: { dataset: 'iquiz', dataset_path: DEMO_QUIZ, subsets: ['EQ'], output_tokens: 6 },
        },
      ],
    });
    // Relative to the plan, as every path in a plan is.
    writeFileSync(
      join(dir, 'prompts.jsonl'),
      [
        JSON.stringify({ prompt: 'Count to three.' }),
        JSON.stringify({
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Hi.' },
          ],
        }),
      ].join('\n'),
    );
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(0);
    const runDir = runDirFrom(result.all);
    const timed = readJson<{ levels: PerfLevel[] }>(join(runDir, 'evals/timed/perf.json')).levels;
    // One request takes 20 + 11 × 5 = 75 ms at least: a level of 1.5 s sends several per slot, then stops.
    for (const level of timed) {
      expect(level.failed).toBe(0);
      expect(level.num_prompts).toBeGreaterThan(level.max_concurrency * 3);
      expect(level.num_prompts).toBeLessThan((level.max_concurrency * 1500) / 75 + level.max_concurrency);
      expect(level.duration).toBeGreaterThanOrEqual(1.5);
      expect(level.duration).toBeLessThan(1.5 + 2);
      // ignore_eos (the default): every request generated exactly output_tokens.
      expect(level.total_output_tokens).toBe(level.completed * 12);
    }
    const quiz = readJson<{ levels: PerfLevel[]; input_tokens: number | null }>(
      join(runDir, 'evals/quiz/perf.json'),
    );
    expect(quiz.input_tokens).toBeNull();
    expect(quiz.levels[0]).toMatchObject({ num_prompts: 5, completed: 5, total_output_tokens: 30 });
    // The questions themselves were sent: far longer than a bare chat template.
    expect(quiz.levels[0]?.total_input_tokens).toBeGreaterThan(5 * 20);
  }, 60_000);

  it('fails a perf gate with exit code 3, the verdict naming the level and the figure', async () => {
    const { file, outDir } = writeSimPlan({
      sim: { VLLM_SIM_TTFT_MS: String(TTFT_MS), VLLM_SIM_TOKEN_LATENCY_MS: '2' },
      evals: [
        {
          name: 'load',
          backend: 'perf',
          concurrency: [1, 2],
          requests: 4,
          prompts: { input_tokens: 32, output_tokens: 8 },
        },
      ],
    });
    const plan = readFileSync(file, 'utf8');
    // The simulator's TTFT is 50 ms: a 10 ms ceiling cannot be met; the throughput floor is.
    writeFileSync(
      file,
      `${plan}gates:\n  - {eval: load, metric: ttft_ms.p99, concurrency: 2, max: 10}\n  - {eval: load, metric: request_throughput, concurrency: 1, min: 0.5}\n`,
    );
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(3);
    const summary = readJson<RunSummary>(join(runDirFrom(result.all), 'summary.json'));
    expect(summary.gates).toEqual([
      expect.objectContaining({ name: 'load.ttft_ms.p99@2', passed: false, judged: true, concurrency: 2 }),
      expect.objectContaining({ name: 'load.request_throughput@1', passed: true, judged: true }),
    ]);
    expect(summary.gates?.[0]?.value).toBeGreaterThanOrEqual(TTFT_MS);
    expect(result.all).toContain('load ttft_ms.p99 at concurrency 2');

    // The history keeps every level's figures: `evalrig history` shows them run by run.
    const history = await startCli(['history', 'e2e', '--output-dir', outDir]);
    expect(history.exitCode, history.all).toBe(0);
    expect(history.stdout).toMatch(/c=1 out tok\/s\s*│\s*c=1 TTFT p99 ms\s*│\s*c=2 out tok\/s/);
    const throughput = summary.evals[0]?.perf?.levels[0]?.output_throughput ?? 0;
    expect(history.stdout).toContain(throughput.toFixed(1));
  }, 60_000);
});
