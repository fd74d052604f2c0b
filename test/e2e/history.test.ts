import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import type { RunRecord } from '../../src/history/record.js';
import type { RunSummary } from '../../src/run/summary.js';
import { readJson, runDirFrom, startCli, writeSimPlan } from './cli-helpers.js';
import { ROOT } from '../paths.js';

const DEMO_PLAN = join(ROOT, 'configs/demo.yaml');

/** `evalrig plan configs/demo.yaml` into `outputDir`, the simulator answering right with `accuracy`. */
async function demoRun(outputDir: string, accuracy: string, extra: string[] = []) {
  const result = await startCli(['plan', DEMO_PLAN, '--output-dir', outputDir, ...extra], {
    VLLM_SIM_ACCURACY: accuracy,
    VLLM_SIM_LOAD_TIME: '0.5',
  });
  const runDir = runDirFrom(result.all);
  return { result, runDir, summary: readJson<RunSummary>(join(runDir, 'summary.json')) };
}

/** What `evalrig history --json` prints. */
interface HistoryJson {
  cells: { plan: string; cell: string; baseline: string | null; runs: RunRecord[] }[];
}

async function historyRuns(outputDir: string): Promise<RunRecord[]> {
  const listed = await startCli(['history', 'demo', '--output-dir', outputDir, '--json']);
  expect(listed.exitCode, listed.all).toBe(0);
  const parsed = JSON.parse(listed.stdout) as HistoryJson;
  return parsed.cells[0]?.runs ?? [];
}

describe.concurrent('run history and gates against the simulator as vllm', () => {
  it('exits 0, 0, 3 for demo runs at accuracy 0.9, 0.9, 0.3, naming the gate; lists, imports and pins', async () => {
    const outputDir = mkdtempSync(join(tmpdir(), 'evalrig-history-e2e-'));
    const first = await demoRun(outputDir, '0.9');
    expect(first.result.exitCode, first.result.all).toBe(0);
    expect(first.summary.gates).toMatchObject([
      { name: 'demo-quiz-no-regression', passed: true, judged: false },
    ]);
    const second = await demoRun(outputDir, '0.9');
    expect(second.result.exitCode, second.result.all).toBe(0);
    expect(second.summary.compared_with).toEqual({ run_dir: first.runDir, kind: 'previous' });
    const third = await demoRun(outputDir, '0.3');
    expect(third.result.exitCode, third.result.all).toBe(3);

    // The verdict names the gate, the value, the threshold and the run compared with, on the console and on top of
    // report.md; summary.json has it before either.
    const failedLine = new RegExp(
      `FAIL gate demo-quiz-no-regression: demo-quiz OVERALL score [\\d.]+ dropped [\\d.]+ from [\\d.]+ \\(previous run ${second.runDir}\\), more than max_drop 0\\.1`,
    );
    expect(third.result.all).toMatch(failedLine);
    expect(third.result.all.trim().split('\n').at(-1)).toContain(third.runDir);
    const report = readFileSync(join(third.runDir, 'report.md'), 'utf8');
    expect(report.split('\n')[0]).toBe('# demo: OK, GATE FAILED');
    expect(report.indexOf('## Verdict')).toBeLessThan(report.indexOf('## Scores'));
    expect(report).toContain('**FAIL** `demo-quiz-no-regression`: demo-quiz OVERALL score');
    expect(third.summary).toMatchObject({
      status: 'ok',
      exit_code: 3,
      compared_with: { run_dir: second.runDir, kind: 'previous' },
      gates: [{ name: 'demo-quiz-no-regression', passed: false, threshold: 0.1, metric: 'score' }],
    });
    const quiz = third.summary.evals[0];
    expect(quiz?.delta).toBeLessThan(-0.1);
    expect(quiz?.ci95?.[0]).toBeLessThan(quiz?.score ?? 0);
    expect(quiz?.subsets.every((subset) => subset.ci95 && subset.ci95[0] <= subset.score)).toBe(true);

    // The history lists the three runs.
    const listed = await startCli(['history', 'demo', '--output-dir', outputDir]);
    expect(listed.exitCode, listed.all).toBe(0);
    for (const run of [first, second, third]) expect(listed.stdout).toContain(basename(run.runDir));
    expect(listed.stdout).toContain('gate failed (exit 3)');
    const runs = await historyRuns(outputDir);
    expect(runs.map((run) => [run.run_dir, run.exit_code])).toEqual([
      [first.runDir, 0],
      [second.runDir, 0],
      [third.runDir, 3],
    ]);
    expect(runs[0]).toMatchObject({ vllm_version: '0.17.1', evalrig_version: expect.any(String) });
    expect(runs[0]?.time_to_ready_s).toBeGreaterThan(0);
    expect(runs[0]?.evals[0]).toMatchObject({
      name: 'demo-quiz',
      num: 40,
      latency_p50_ms: expect.any(Number),
    });

    // A copied run folder goes into a fresh history, once however often it is imported.
    const copies = mkdtempSync(join(tmpdir(), 'evalrig-history-copy-'));
    const copy = join(copies, 'demo', basename(first.runDir));
    cpSync(first.runDir, copy, { recursive: true });
    const fresh = join(copies, 'fresh');
    for (let i = 0; i < 2; i++) {
      const imported = await startCli(['history', 'import', copy, '--output-dir', fresh]);
      expect(imported.exitCode, imported.all).toBe(0);
      expect(imported.stdout).toContain(`recorded ${copy} (ok)`);
    }
    expect((await historyRuns(fresh)).map((run) => [run.run_dir, run.evals[0]?.score])).toEqual([
      [copy, first.summary.evals[0]?.score],
    ]);

    // Pinned, the first run is what a gate against the baseline compares with, though the previous run scored the
    // same as this one.
    const pinned = await startCli(['history', 'baseline', first.runDir]);
    expect(pinned.exitCode, pinned.all).toBe(0);
    expect(readFileSync(join(outputDir, 'demo', 'BASELINE'), 'utf8')).toContain(
      `\n${basename(first.runDir)}\n`,
    );
    const againstBaseline = await demoRun(outputDir, '0.3', ['--set', 'gates[0].against=baseline']);
    expect(againstBaseline.result.exitCode, againstBaseline.result.all).toBe(3);
    expect(againstBaseline.summary.compared_with).toEqual({ run_dir: first.runDir, kind: 'baseline' });
    expect(againstBaseline.result.all).toContain(`(baseline run ${first.runDir})`);
    expect(againstBaseline.summary.gates?.[0]?.compared_value).toBe(first.summary.evals[0]?.score);

    const cleared = await startCli(['history', 'baseline', '--clear', 'demo', '--output-dir', outputDir]);
    expect(cleared.stdout).toContain('unpinned 1 baseline of demo');
    expect(existsSync(join(outputDir, 'demo', 'BASELINE'))).toBe(false);
  });

  it('with significant: true, passes a drop beyond max_drop that a small sample cannot tell from noise', async () => {
    const { file, outDir } = writeSimPlan({ eval: { limit: 5 } });
    const plan = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    plan.gates = [{ name: 'small-sample', eval: 'quiz', metric: 'score', max_drop: 0.1, significant: true }];
    writeFileSync(file, stringify(plan));
    const run = async (accuracy: string) => {
      const result = await startCli(['plan', file], { VLLM_SIM_ACCURACY: accuracy });
      return { result, summary: readJson<RunSummary>(join(runDirFrom(result.all), 'summary.json')) };
    };
    const before = await run('1');
    expect(before.result.exitCode, before.result.all).toBe(0);
    const after = await run('0.8');
    const [verdict] = after.summary.gates ?? [];
    // The drop is beyond max_drop: without significant this run would fail its gate.
    expect(verdict?.drop).toBeGreaterThan(0.1);
    expect(after.summary.evals[0]?.num).toBe(10);
    expect(verdict).toMatchObject({ passed: true, judged: true });
    expect(verdict?.z).toBeLessThan(1.96);
    expect(after.result.exitCode, after.result.all).toBe(0);
    expect(after.result.all).toMatch(
      /pass gate small-sample: .* but within the noise \(z = [\d.]+ ≤ 1\.96 over 10 and 10 questions\)/,
    );
    expect(existsSync(join(outDir, 'history.sqlite'))).toBe(true);
  });
});
