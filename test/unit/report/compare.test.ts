import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { compareCommand } from '../../../src/commands/compare.js';
import { compareRuns, renderComparison, type RunComparison } from '../../../src/report/compare.js';
import { findFlips } from '../../../src/report/flips.js';
import { readFolder, readPredictions } from '../../../src/report/run-folder.js';
import { prediction, tempDir, writeRunFolder } from './run-fixture.js';

function twoRuns() {
  const root = tempDir();
  const a = writeRunFolder(join(root, 'a'), {
    evals: {
      quiz: [
        prediction({ id: 'IQ-0', gold: 'A', extracted: 'A' }),
        prediction({ id: 'IQ-1', gold: 'B', extracted: 'C' }),
        prediction({ id: 'EQ-0', subset: 'EQ', gold: 'D', extracted: 'D' }),
        prediction({ id: 'EQ-1', subset: 'EQ', gold: 'A', extracted: null, truncated: true }),
      ],
    },
  });
  const b = writeRunFolder(join(root, 'b'), {
    evals: {
      quiz: [
        prediction({ id: 'IQ-0', gold: 'A', extracted: 'A' }),
        prediction({ id: 'IQ-1', gold: 'B', extracted: 'B' }),
        prediction({ id: 'EQ-0', subset: 'EQ', gold: 'D', extracted: 'C' }),
        prediction({
          id: 'EQ-1',
          subset: 'EQ',
          gold: 'A',
          extracted: null,
          error: 'HTTP 500',
          latency_ms: 9000,
        }),
      ],
    },
  });
  return { a, b };
}

describe('findFlips', () => {
  it('lists the samples of both runs whose verdict changed, with both answers', () => {
    const flips = findFlips(
      [prediction({ id: '1', extracted: 'B' }), prediction({ id: '2' }), prediction({ id: 'gone' })],
      [
        prediction({ id: '1' }),
        prediction({ id: '2', extracted: 'C' }),
        prediction({ id: 'new', extracted: 'D' }),
      ],
    );
    expect(flips.map((flip) => [flip.id, flip.before.extracted, flip.after.extracted, flip.gold])).toEqual([
      ['1', 'B', 'A', 'A'],
      ['2', 'A', 'C', 'A'],
    ]);
  });
});

describe('readPredictions', () => {
  it('keeps the newest line of a sample asked again, and skips a line torn by a kill', () => {
    const dir = writeRunFolder(tempDir(), {
      evals: { quiz: [prediction({ id: 'IQ-0', error: 'HTTP 503', extracted: null })] },
      extraLines: { quiz: [JSON.stringify(prediction({ id: 'IQ-0' })), '{"id": "IQ-1", "subs'] },
    });
    const records = readPredictions(dir, 'quiz');
    expect(records).toHaveLength(1);
    expect(records[0]).toMatchObject({ id: 'IQ-0', correct: true, error: null });
  });

  it('is empty for an evaluation without predictions.jsonl', () => {
    expect(readPredictions(tempDir(), 'quiz')).toEqual([]);
  });
});

describe('readFolder', () => {
  it('refuses a folder without summary.json, naming it', () => {
    const dir = tempDir();
    expect(() => readFolder(dir)).toThrow(`${dir} is not a finished run folder`);
  });
});

describe('compareRuns', () => {
  it('gives each figure in both runs and B - A, evaluation by evaluation', () => {
    const { a, b } = twoRuns();
    const comparison = compareRuns(a, b);
    const quiz = comparison.evals[0];
    const figure = (metric: string) => quiz?.metrics.find((row) => row.metric === metric);
    expect(figure('score')).toMatchObject({ a: 0.5, b: 0.5, delta: 0 });
    expect(figure('score IQ')).toMatchObject({ a: 0.5, b: 1, delta: 0.5 });
    expect(figure('score EQ')).toMatchObject({ a: 0.5, b: 0, delta: -0.5 });
    expect(figure('errors')).toMatchObject({ a: 0, b: 1, delta: 1 });
    expect(figure('truncated')).toMatchObject({ a: 1, b: 0, delta: -1 });
    expect(figure('latency p50')).toMatchObject({ a: 400, b: 400, unit: 'ms' });
  });

  it('lists the flipped samples with both extracted letters and the gold letter', () => {
    const { a, b } = twoRuns();
    const text = renderComparison(compareRuns(a, b));
    expect(text).toContain('quiz: 2 samples flipped (1 now right, 1 now wrong)');
    expect(text).toMatch(/IQ-1\s+│\s+IQ\s+│\s+B\s+│\s+C \(wrong\)\s+│\s+B \(right\)/);
    expect(text).toMatch(/EQ-0\s+│\s+EQ\s+│\s+D\s+│\s+D \(right\)\s+│\s+C \(wrong\)/);
    expect(text).toMatch(/score IQ\s+│\s+0\.5\s+│\s+1\.0\s+│\s+\+0\.5\s/);
  });
});

describe('evalrig compare', () => {
  afterEach(() => vi.restoreAllMocks());

  it('--json prints the comparison for scripts', async () => {
    const { a, b } = twoRuns();
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    expect(await compareCommand.run([a, b, '--json'])).toBe(0);
    const printed = JSON.parse(String(log.mock.calls[0]?.[0])) as RunComparison;
    expect(printed.a.run_dir).toBe(a);
    expect(printed.evals[0]?.flips.map((flip) => flip.id)).toEqual(['IQ-1', 'EQ-0']);
    expect(printed.evals[0]?.flips[0]?.after).toEqual({ extracted: 'B', correct: true, content: '答案：B' });
  });

  it('wants two run folders', async () => {
    await expect(compareCommand.run(['only-one'])).rejects.toThrow('give two run folders');
  });
});
