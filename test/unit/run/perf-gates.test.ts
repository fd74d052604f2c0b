import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/errors.js';
import { perfEvaluator } from '../../../src/eval/perf/evaluator.js';
import { silentDisplay } from '../../../src/util/display.js';
import { openHistory } from '../../../src/history/database.js';
import { PlanSchema, type GateSpec } from '../../../src/plan/schema.js';
import { judgeRun, recordRun } from '../../../src/run/history.js';
import type { Manifest } from '../../../src/run/manifest.js';
import { summarizeEval, type RunSummary } from '../../../src/run/summary.js';
import { killAllSims, startReadySim, type SimHandle } from '../../sim/helpers.js';

// A real perf evaluation against the simulator (TTFT 40 ms, 4 ms a token), judged and recorded as a run does.

let sim: SimHandle;
let summary: RunSummary;
const manifest = {
  evalrig_version: '0.1.0',
  started_at: '2026-12-01T02:00:00.000Z',
  phases: {},
  attempts: [{ evalrig_version: '0.1.0' }],
} as unknown as Manifest;

const plan = (gates: unknown[]) =>
  PlanSchema.parse({
    name: 'load',
    server: { model: '/models/m' },
    evals: [
      {
        name: 'load',
        backend: 'perf',
        concurrency: [1, 4],
        requests: 8,
        prompts: { input_tokens: 32, output_tokens: 10 },
      },
    ],
    ...(gates.length > 0 && { gates }),
  });

beforeAll(async () => {
  sim = await startReadySim({
    args: ['--served-model-name', 'm'],
    env: { VLLM_SIM_TTFT_MS: '40', VLLM_SIM_TOKEN_LATENCY_MS: '4' },
  });
  const spec = plan([]).evals[0];
  if (!spec) throw new Error('no evaluation');
  const dir = mkdtempSync(join(tmpdir(), 'evalrig-perf-gates-'));
  const signal = new AbortController().signal;
  const prepared = await perfEvaluator.prepare(spec, {
    planDir: dir,
    datasets: { offline: true },
    signal,
    display: silentDisplay,
  });
  const result = await perfEvaluator.run(
    prepared,
    { baseUrl: `${sim.baseUrl}/v1`, servedModel: 'm' },
    { runDir: dir, evalDir: dir, signal, display: silentDisplay, mask: (text) => text },
  );
  summary = {
    status: 'ok',
    exit_code: 0,
    run_dir: join(dir, 'load', '20261201'),
    plan: 'load',
    model: 'm',
    vllm_version: '0.17.1',
    attempt: 1,
    started_at: manifest.started_at,
    finished_at: '2026-12-01T02:01:00.000Z',
    duration_s: 60,
    error: null,
    samples: null,
    resume_command: null,
    evals: [summarizeEval(result)],
    teardown: null,
  } as RunSummary;
}, 60_000);
afterAll(killAllSims);

function judge(gates: unknown[], root = mkdtempSync(join(tmpdir(), 'evalrig-perf-history-'))) {
  const warnings: string[] = [];
  const judged = judgeRun(
    summary,
    manifest,
    { outputDir: root, plan: 'load', cell: '' },
    plan(gates).gates ?? ([] as GateSpec[]),
    (message) => warnings.push(message),
  );
  expect(warnings).toEqual([]);
  return { judged, root };
}

describe('perf gates on a real perf run', () => {
  it('passes latency and throughput gates the run meets, naming the level', () => {
    const { judged } = judge([
      { eval: 'load', metric: 'ttft_ms.p99', concurrency: 4, max: 800 },
      { eval: 'load', metric: 'output_throughput', concurrency: 4, min: 10 },
    ]);
    expect(judged.exit_code).toBe(ExitCode.ok);
    expect(judged.gates).toEqual([
      expect.objectContaining({
        name: 'load.ttft_ms.p99@4',
        concurrency: 4,
        passed: true,
        judged: true,
        detail: expect.stringMatching(/^load ttft_ms\.p99 at concurrency 4 [\d.]+ ≤ max 800$/),
      }),
      expect.objectContaining({ name: 'load.output_throughput@4', passed: true, judged: true }),
    ]);
    // The value judged is the level's own figure in perf.json.
    const level = summary.evals[0]?.perf?.levels.find((l) => l.max_concurrency === 4);
    expect(judged.gates?.[0]?.value).toBe(level?.ttft_ms.p99);
  });

  it('fails a gate the run misses (TTFT is at least the simulated 40 ms): exit code 3', () => {
    const { judged } = judge([{ eval: 'load', metric: 'ttft_ms.median', concurrency: 1, max: 30 }]);
    expect(judged.exit_code).toBe(ExitCode.gateFailed);
    expect(judged.gates).toEqual([
      expect.objectContaining({
        passed: false,
        judged: true,
        detail: expect.stringMatching(/^load ttft_ms\.median at concurrency 1 [\d.]+ is above max 30$/),
      }),
    ]);
  });

  it('records every level in the history, to be read back for the trend', () => {
    const { judged, root } = judge([]);
    recordRun(judged, manifest, { outputDir: root, plan: 'load', cell: '' }, (message) => {
      throw new Error(message);
    });
    const history = openHistory(root);
    try {
      const [run] = history.runs('load', '');
      const perf = run?.evals[0]?.perf ?? [];
      expect(perf.map((level) => level.concurrency)).toEqual([1, 4]);
      const recorded = summary.evals[0]?.perf?.levels ?? [];
      perf.forEach((level, index) => {
        expect(level.figures.output_throughput).toBe(recorded[index]?.output_throughput);
        expect(level.figures['itl_ms.p99']).toBe(recorded[index]?.itl_ms.p99);
      });
    } finally {
      history.close();
    }
  });
});

describe('perf gates in the plan', () => {
  it('need a perf evaluation and one of its levels, at the gate', () => {
    const issues = (gates: unknown[]) => {
      const parsed = PlanSchema.safeParse({
        name: 'load',
        server: { model: '/models/m' },
        evals: [
          { name: 'load', backend: 'perf', concurrency: [1, 4] },
          { name: 'quiz', backend: 'native', dataset: 'iquiz' },
        ],
        gates,
      });
      return parsed.success ? [] : parsed.error.issues.map((issue) => [issue.path.join('.'), issue.message]);
    };
    expect(issues([{ eval: 'load', metric: 'ttft_ms.p99', max: 800 }])).toEqual([
      ['gates.0.metric', 'load has concurrency levels 1, 4: name one with concurrency'],
    ]);
    expect(issues([{ eval: 'load', metric: 'ttft_ms.p99', concurrency: 16, max: 800 }])).toEqual([
      ['gates.0.concurrency', 'load has no concurrency level 16; it has 1, 4'],
    ]);
    expect(issues([{ eval: 'quiz', metric: 'output_throughput', min: 1 }])).toEqual([
      ['gates.0.metric', 'output_throughput is a perf figure, and quiz is a native evaluation'],
    ]);
    expect(issues([{ eval: 'quiz', metric: 'score', concurrency: 4, min: 0.5 }])).toEqual([
      ['gates.0.concurrency', "concurrency picks a level of a perf evaluation's figures; score has none"],
    ]);
  });
});
