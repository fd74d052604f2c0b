import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { regenerateReports } from '../../../src/report/run-reports.js';
import { FIXTURES } from '../../paths.js';
import { prediction, tempDir, writeRunFolder } from './run-fixture.js';

// A report, review and prediction line of our own making, each in the keys and nesting EvalScope 1.x writes.
const FIXTURE = join(FIXTURES, 'evalscope-layout');

/** Keys and nesting only: an object becomes its keys, each with the shape of its value; a list, its items'. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shapeOf);
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, shapeOf(item)]));
  return 'leaf';
}

const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));
const firstLine = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!);

describe("native results in EvalScope's layout", () => {
  const dir = writeRunFolder(tempDir(), {
    evals: {
      quiz: [
        prediction({ id: 'IQ-0' }),
        prediction({ id: 'IQ-1', extracted: 'B' }),
        prediction({ id: 'EQ-0', subset: 'EQ' }),
      ],
    },
  });
  regenerateReports(dir);
  const root = join(dir, 'evals/quiz/evalscope');

  it('writes the report, reviews and predictions per subset for each native evaluation of a run', () => {
    for (const file of [
      'reports/Qwen3-8B/iquiz.json',
      'reviews/Qwen3-8B/iquiz_IQ.jsonl',
      'reviews/Qwen3-8B/iquiz_EQ.jsonl',
      'predictions/Qwen3-8B/iquiz_IQ.jsonl',
      'predictions/Qwen3-8B/iquiz_EQ.jsonl',
    ])
      expect(existsSync(join(root, file)), file).toBe(true);
    const report = JSON.parse(readFileSync(join(root, 'reports/Qwen3-8B/iquiz.json'), 'utf8')) as {
      score: number;
      metrics: { categories: { subsets: { name: string; score: number; num: number }[] }[] }[];
    };
    expect(report.metrics[0]?.categories[0]?.subsets).toEqual([
      { name: 'IQ', score: 0.5, num: 2 },
      { name: 'EQ', score: 1, num: 1 },
    ]);
    expect(report.score).toBeCloseTo(2 / 3, 6);
    const reviews = readFileSync(join(root, 'reviews/Qwen3-8B/iquiz_IQ.jsonl'), 'utf8').trim().split('\n');
    expect(
      reviews.map((line) => (JSON.parse(line) as { sample_score: { score: object } }).sample_score.score),
    ).toEqual([
      expect.objectContaining({ value: { acc: 1 }, extracted_prediction: 'A' }),
      expect.objectContaining({ value: { acc: 0 }, extracted_prediction: 'B' }),
    ]);
  });

  it('has the keys and nesting of EvalScope 1.x files', () => {
    const ours = readJson(join(root, 'reports/Qwen3-8B/iquiz.json'));
    expect(shapeOf(ours)).toEqual(shapeOf(readJson(join(FIXTURE, 'reports/demo-model/iquiz.json'))));
    for (const kind of ['reviews', 'predictions']) {
      const ours = firstLine(join(root, kind, 'Qwen3-8B/iquiz_IQ.jsonl'));
      const real = firstLine(join(FIXTURE, kind, 'demo-model/iquiz_IQ.jsonl'));
      expect(shapeOf(ours), kind).toEqual(shapeOf(real));
    }
  });
});
