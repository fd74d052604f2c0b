import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../../src/errors.js';
import { HISTORY_FILE, openHistory } from '../../../src/history/database.js';
import { GateSchema } from '../../../src/plan/schema.js';
import { judgeRun, recordRun, type HistoryPlace } from '../../../src/run/history.js';
import type { Manifest } from '../../../src/run/manifest.js';
import { summarizeMatrix, type EvalSummary, type RunSummary } from '../../../src/run/summary.js';

const dropGate = GateSchema.parse({ name: 'no-regression', eval: 'quiz', metric: 'score', max_drop: 0.1 });

function evalSummary(score: number): EvalSummary {
  return {
    name: 'quiz',
    backend: 'native',
    dataset: 'iquiz',
    metric: 'mean_acc',
    status: 'ok',
    num: 40,
    score,
    ci95: [score - 0.1, Math.min(1, score + 0.1)],
    subsets: [{ name: 'IQ', num: 40, score, ci95: null }],
    truncated: 0,
    errors: 0,
    error: null,
  };
}

/** A finished run of plan demo in `root`, with its manifest: server ready after 1.5 s. */
function finishedRun(root: string, stamp: string, score: number, status: RunSummary['status'] = 'ok') {
  const startedAt = `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T02:00:00.000Z`;
  const summary: RunSummary = {
    status,
    exit_code: status === 'ok' ? 0 : 1,
    run_dir: join(root, 'demo', stamp),
    plan: 'demo',
    model: 'Qwen3-8B',
    vllm_version: '0.17.1',
    attempt: 1,
    started_at: startedAt,
    finished_at: startedAt.replace('02:00:00', '02:01:00'),
    duration_s: 60,
    error: status === 'ok' ? null : 'vLLM exited during evaluation',
    samples: { done: 40, total: 40 },
    resume_command: null,
    evals: [evalSummary(score)],
    teardown: null,
  };
  const manifest = {
    evalrig_version: '0.1.0',
    started_at: startedAt,
    phases: {
      start: { started_at: startedAt, duration_ms: 500 },
      ready: { started_at: startedAt.replace('00.000Z', '00.500Z'), duration_ms: 1000 },
    },
    attempts: [{ evalrig_version: '0.1.0' }],
  } as unknown as Manifest;
  return { summary, manifest };
}

function place(root: string): HistoryPlace {
  return { outputDir: root, plan: 'demo', cell: '' };
}

/** Judges a run against the history in `root` and records it, as a run does when it ends. */
function finish(root: string, stamp: string, score: number, status: RunSummary['status'] = 'ok') {
  const { summary, manifest } = finishedRun(root, stamp, score, status);
  const warnings: string[] = [];
  const judged = judgeRun(summary, manifest, place(root), [dropGate], (m) => warnings.push(m));
  recordRun(judged, manifest, place(root), (m) => warnings.push(m));
  return { judged, warnings };
}

describe('a finished run judged against its history', () => {
  it('passes the first run with a note, then fails a drop with exit code 3, naming the run compared with', () => {
    const root = mkdtempSync(join(tmpdir(), 'evalrig-gates-'));
    const first = finish(root, '20261129', 0.9);
    expect(first.judged).toMatchObject({ exit_code: ExitCode.ok, compared_with: null });
    expect(first.judged.gates).toMatchObject([{ passed: true, judged: false }]);
    expect(first.judged.evals[0]).toMatchObject({ delta: null });

    const second = finish(root, '20261130', 0.9);
    expect(second.judged.exit_code).toBe(ExitCode.ok);
    const third = finish(root, '20261201', 0.3);
    expect(third.judged).toMatchObject({
      status: 'ok',
      exit_code: ExitCode.gateFailed,
      compared_with: { run_dir: join(root, 'demo', '20261130'), kind: 'previous' },
    });
    expect(third.judged.evals[0]?.delta).toBeCloseTo(-0.6, 10);
    expect(third.warnings).toEqual([]);

    const history = openHistory(root);
    const runs = history.runs('demo', '');
    expect(runs.map((run) => [run.exit_code, run.time_to_ready_s])).toEqual([
      [0, 1.5],
      [0, 1.5],
      [3, 1.5],
    ]);
    history.close();
  });

  it('keeps exit code 1 for a failed run and compares later runs with the last run that ended ok', () => {
    const root = mkdtempSync(join(tmpdir(), 'evalrig-gates-'));
    finish(root, '20261129', 0.9);
    const failed = finish(root, '20261130', 0.1, 'failed');
    expect(failed.judged.exit_code).toBe(ExitCode.runFailed);
    expect(failed.judged.gates).toMatchObject([
      { passed: true, judged: false, detail: 'max_drop 0.1: the run failed' },
    ]);
    const next = finish(root, '20261201', 0.85);
    expect(next.judged).toMatchObject({
      exit_code: ExitCode.ok,
      compared_with: { run_dir: join(root, 'demo', '20261129') },
    });
  });

  it("keeps an interrupted evaluation's partial score out of the history: a trend compares finished ones", () => {
    const root = mkdtempSync(join(tmpdir(), 'evalrig-gates-'));
    finish(root, '20261129', 0.9);
    const { summary, manifest } = finishedRun(root, '20261130', 0.5, 'interrupted');
    // 11 of the 40 samples answered before the signal, as the run's row gives them.
    summary.evals = [
      {
        ...evalSummary(0.5),
        status: 'interrupted',
        num: 11,
        ci95: undefined,
        subsets: [{ name: 'IQ', num: 11, score: 0.5 }],
      },
    ];
    const judged = judgeRun(summary, manifest, place(root), [dropGate], () => undefined);
    recordRun(judged, manifest, place(root), () => undefined);
    expect(judged.evals[0]).toMatchObject({ num: 11, score: 0.5, ci95: null, delta: null });

    const history = openHistory(root);
    expect(history.trend('demo', '', 'quiz').map((point) => [point.status, point.score])).toEqual([
      ['ok', 0.9],
      ['interrupted', null],
    ]);
    expect(history.runs('demo', '')[1]?.evals[0]).toMatchObject({ num: 11, score: null, subsets: [] });
    history.close();
  });

  it('goes on with a warning when the history cannot be written, saying how to record the run later', () => {
    const root = mkdtempSync(join(tmpdir(), 'evalrig-gates-'));
    mkdirSync(join(root, HISTORY_FILE));
    const { judged, warnings } = finish(root, '20261201', 0.9);
    expect(judged.exit_code).toBe(ExitCode.ok);
    expect(warnings).toEqual([
      expect.stringMatching(/^the run history could not be read \(.*\): drops are not judged$/),
      expect.stringMatching(
        /^the run was not recorded in the run history \(.*\); `evalrig history import .*20261201` records it later$/,
      ),
    ]);
  });
});

describe('a matrix exit code', () => {
  const variant = (name: string, status: RunSummary['status'], exit_code: number) => ({
    name,
    summary: { status, exit_code } as RunSummary,
  });
  const context = { resumeCommand: 'evalrig plan m.yaml --resume out/m/1' };

  it('is 3 when a variant failed a gate and none failed', () => {
    expect(
      summarizeMatrix('m', 'out/m/1', [variant('a', 'ok', 0), variant('b', 'ok', 3)], context),
    ).toMatchObject({
      status: 'ok',
      exit_code: ExitCode.gateFailed,
    });
  });

  it('is the failure when a variant failed, even if another failed a gate', () => {
    expect(
      summarizeMatrix('m', 'out/m/1', [variant('a', 'ok', 3), variant('b', 'failed', 1)], context).exit_code,
    ).toBe(ExitCode.runFailed);
  });
});
