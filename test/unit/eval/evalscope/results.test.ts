import { mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  combineReports,
  findOutputFolder,
  findReportFile,
  parseReport,
  writeReviewsAsPredictions,
} from '../../../../src/eval/evalscope/results.js';
import type { PredictionRecord } from '../../../../src/eval/types.js';
import { tempDir } from '../../../sim/helpers.js';

const FIXTURES = join(import.meta.dirname, '../../../fixtures/evalscope');

describe('EvalScope reports', () => {
  it('reads the 1.x shape: overall and per subset', () => {
    const file = join(FIXTURES, 'newer-format/reports/quiz-model-a/iquiz.json');
    const report = parseReport(readFileSync(file, 'utf8'), file);
    expect(report).toMatchObject({
      dataset: 'iquiz',
      model: 'quiz-model-a',
      metric: 'mean_acc',
      score: 0.8,
      num: 20,
    });
    expect(report.subsets).toEqual([
      { name: 'IQ', score: 0.9, num: 10 },
      { name: 'EQ', score: 0.7, num: 10 },
    ]);
  });

  it('reads the older shape without perf_metrics', () => {
    const file = join(FIXTURES, 'older-format/reports/quiz-model-b/iquiz.json');
    expect(parseReport(readFileSync(file, 'utf8'), file)).toMatchObject({ score: 0.45, num: 20 });
  });

  it('reads the 0.x metric name and schema_version 2 (no top-level score, the primary metric by identity)', () => {
    const zero = {
      dataset_name: 'iquiz',
      model_name: 'm',
      score: 0.5,
      metrics: [
        {
          name: 'AverageAccuracy',
          num: 2,
          score: 0.5,
          categories: [{ name: ['default'], subsets: [{ name: 'IQ', score: 0.5, num: 2 }] }],
        },
      ],
    };
    expect(parseReport(JSON.stringify(zero), 'f').metric).toBe('AverageAccuracy');
    const v2 = {
      schema_version: 2,
      dataset_name: 'general_mcq',
      model_name: 'm',
      metrics: [
        {
          identity: { name: 'other', aggregation: 'mean', dimensions: {} },
          num: 4,
          score: 0.1,
          categories: [],
        },
        {
          identity: { name: 'accuracy', aggregation: 'mean', dimensions: {} },
          num: 4,
          score: 0.75,
          categories: [
            { name: ['default'], num: 4, score: 0.75, subsets: [{ name: 'default', score: 0.75, num: 4 }] },
          ],
        },
      ],
      primary_metric_identity: { name: 'accuracy', aggregation: 'mean', dimensions: {} },
    };
    expect(parseReport(JSON.stringify(v2), 'f')).toMatchObject({ metric: 'accuracy', score: 0.75, num: 4 });
  });

  it('refuses a malformed report with the file named', () => {
    expect(() => parseReport('{"metrics": [', 'r.json')).toThrow(/r\.json: not JSON/);
    expect(() => parseReport('{"score": 1}', 'r.json')).toThrow(/r\.json: no "metrics"/);
    expect(() => parseReport('{"metrics": [{"name": "x", "num": "2", "score": 1}]}', 'r.json')).toThrow(
      /"num" is not a number/,
    );
  });

  it('combines datasets as a micro mean with qualified subset names', () => {
    const a = {
      dataset: 'iquiz',
      model: 'm',
      metric: 'mean_acc',
      score: 1,
      num: 10,
      subsets: [{ name: 'IQ', num: 10, score: 1 }],
    };
    const b = {
      dataset: 'gsm8k',
      model: 'm',
      metric: 'mean_acc',
      score: 0.5,
      num: 30,
      subsets: [{ name: 'main', num: 30, score: 0.5 }],
    };
    expect(combineReports([a, b])).toEqual({
      num: 40,
      score: 0.625,
      metric: 'mean_acc',
      subsets: [
        { name: 'iquiz/IQ', num: 10, score: 1 },
        { name: 'gsm8k/main', num: 30, score: 0.5 },
      ],
    });
  });
});

describe('the output folder', () => {
  it('is the work dir with --no-timestamp, else the newest timestamped folder with reports/', () => {
    const work = tempDir('evalscope-out-');
    expect(findOutputFolder(join(work, 'missing'))).toBeUndefined();
    for (const [stamp, seconds] of [
      ['20250101_000000', 1000],
      ['20250102_000000', 2000],
    ] as const) {
      mkdirSync(join(work, stamp, 'reports', 'm'), { recursive: true });
      writeFileSync(join(work, stamp, 'reports', 'm', 'iquiz.json'), '{}');
      utimesSync(join(work, stamp), seconds, seconds);
    }
    const newest = join(work, '20250102_000000');
    expect(findOutputFolder(work)).toBe(newest);
    expect(findReportFile(newest, 'iquiz')).toBe(join(newest, 'reports', 'm', 'iquiz.json'));
    expect(findReportFile(newest, 'gsm8k')).toBeUndefined();
    mkdirSync(join(work, 'reports'));
    expect(findOutputFolder(work)).toBe(work);
  });
});

describe('reviews as prediction records', () => {
  it.each(['newer-format', 'older-format'])('reads the %s review lines', (shape) => {
    const file = join(tempDir('evalscope-pred-'), 'predictions.jsonl');
    expect(writeReviewsAsPredictions(join(FIXTURES, shape), ['iquiz'], file)).toBe(20);
    const records = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as PredictionRecord);
    expect(new Set(records.map((record) => record.subset))).toEqual(new Set(['IQ', 'EQ']));
    for (const record of records) {
      expect(record.prompt).not.toBe('');
      expect(record.content).not.toBeNull();
      expect(record.correct).toBe(record.extracted === record.gold);
    }
  });
});
