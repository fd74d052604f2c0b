import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadIquiz } from '../../../src/datasets/iquiz.js';
import { choiceLetters } from '../../../src/datasets/letters.js';
import { DEMO_QUIZ } from '../../paths.js';

const line = (record: unknown): string => JSON.stringify(record);
const good = (question: string, answer = 'A') => line({ question, choices: ['x', 'y'], answer, level: 1 });

describe('loadIquiz', () => {
  let folder: string;
  beforeEach(async () => {
    folder = await mkdtemp(path.join(tmpdir(), 'evalrig-iquiz-'));
  });
  afterEach(async () => {
    await rm(folder, { recursive: true, force: true });
  });

  async function writeSubset(subset: string, lines: string[]): Promise<string> {
    const text = lines.join('\n') + '\n';
    await writeFile(path.join(folder, `${subset}.jsonl`), text);
    return text;
  }

  it('loads IQ then EQ with ids, levels and provenance', async () => {
    const iqText = await writeSubset('IQ', [
      line({ question: '1+1=?', choices: ['1', '2', '3'], answer: 'B', level: 1 }),
      line({ question: 'q2', choices: ['a', 'b'], answer: 'a' }),
    ]);
    await writeSubset('EQ', [
      line({ question: '他想说什么？', choices: ['甲', '乙', '丙', '丁'], answer: 'D', level: 3 }),
    ]);

    const dataset = await loadIquiz(folder, {});
    expect(dataset.problems).toEqual([]);
    expect(dataset.samples).toEqual([
      {
        id: 'IQ-0',
        subset: 'IQ',
        question: '1+1=?',
        choices: ['1', '2', '3'],
        answer: 'B',
        meta: { level: 1 },
      },
      {
        id: 'IQ-1',
        subset: 'IQ',
        question: 'q2',
        choices: ['a', 'b'],
        answer: 'A',
        meta: { level: 'unknown' },
      },
      {
        id: 'EQ-0',
        subset: 'EQ',
        question: '他想说什么？',
        choices: ['甲', '乙', '丙', '丁'],
        answer: 'D',
        meta: { level: 3 },
      },
    ]);
    expect(dataset.provenance.name).toBe('iquiz');
    expect(dataset.provenance.files).toEqual([
      {
        path: path.join(folder, 'IQ.jsonl'),
        sha256: createHash('sha256').update(iqText).digest('hex'),
        records: 2,
      },
      expect.objectContaining({ path: path.join(folder, 'EQ.jsonl'), records: 1 }),
    ]);
  });

  it('reports bad records as file:line and skips them, keeping the ids of the good ones', async () => {
    await writeSubset('IQ', [
      good('fine'),
      '{"question": "broken",',
      line({ choices: ['a', 'b'], answer: 'A' }),
      line({ question: 'no choices', choices: [], answer: 'A' }),
      line({ question: 'no gold', choices: ['a', 'b'] }),
      line({ question: 'gold out of range', choices: ['a', 'b'], answer: 'C' }),
      line({ question: 'numeric choice', choices: ['a', 2], answer: 'A' }),
      '["not", "an", "object"]',
      '',
      good('also fine', 'B'),
    ]);
    await writeSubset('EQ', [good('eq')]);

    const dataset = await loadIquiz(folder, {});
    expect(dataset.samples.map((sample) => sample.id)).toEqual(['IQ-0', 'IQ-8', 'EQ-0']);
    const file = path.join(folder, 'IQ.jsonl');
    expect(dataset.problems).toEqual([
      expect.stringMatching(new RegExp(`^${escapeRegExp(file)}:2: invalid JSON`)),
      `${file}:3: missing question`,
      `${file}:4: choices must be a non-empty list`,
      `${file}:5: missing answer (the gold letter)`,
      `${file}:6: answer "C" is not one of the options A,B`,
      `${file}:7: every choice must be a string`,
      `${file}:8: not a JSON object`,
    ]);
    expect(dataset.provenance.files[0]?.records).toBe(9);
  });

  it('reads files with a byte-order mark and Windows line ends', async () => {
    await writeFile(path.join(folder, 'IQ.jsonl'), '\uFEFF' + good('q0') + '\r\n' + good('q1', 'B') + '\r\n');
    await writeSubset('EQ', [good('e0')]);
    const dataset = await loadIquiz(folder, {});
    expect(dataset.problems).toEqual([]);
    expect(dataset.samples.map((sample) => [sample.id, sample.answer])).toEqual([
      ['IQ-0', 'A'],
      ['IQ-1', 'B'],
      ['EQ-0', 'A'],
    ]);
  });

  it('takes the given subsets in the given order, and at most limit samples of each', async () => {
    await writeSubset('IQ', [good('i0'), good('i1'), good('i2')]);
    await writeSubset('EQ', [good('e0'), good('e1'), good('e2')]);

    const dataset = await loadIquiz(folder, { subsets: ['EQ', 'IQ'], limit: 2 });
    expect(dataset.samples.map((sample) => sample.id)).toEqual(['EQ-0', 'EQ-1', 'IQ-0', 'IQ-1']);
    expect(dataset.provenance.files.map((file) => file.records)).toEqual([3, 3]);
  });

  it('explains a missing file: which path, and what to set', async () => {
    await writeSubset('IQ', [good('only IQ')]);
    const error = await loadIquiz(folder, {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(path.join(folder, 'EQ.jsonl'));
    expect((error as Error).message).toContain('not found');
    expect((error as Error).message).toContain('dataset_path');
  });

  it('explains a missing folder', async () => {
    await expect(loadIquiz(path.join(folder, 'nope'), {})).rejects.toThrow(
      /nope.IQ\.jsonl: not found.*dataset_path/,
    );
  });
});

describe('the bundled demo quiz', () => {
  it('has 16 IQ and 24 EQ well-formed questions with 2-4 choices and levels 1-3', async () => {
    const demo = DEMO_QUIZ;
    const dataset = await loadIquiz(demo, {});
    expect(dataset.problems).toEqual([]);
    const count = (subset: string) => dataset.samples.filter((sample) => sample.subset === subset).length;
    expect([count('IQ'), count('EQ')]).toEqual([16, 24]);
    for (const sample of dataset.samples) {
      expect(sample.choices.length).toBeGreaterThanOrEqual(2);
      expect(sample.choices.length).toBeLessThanOrEqual(4);
      expect(choiceLetters(sample.choices.length)).toContain(sample.answer);
      expect([1, 2, 3]).toContain(sample.meta.level);
    }
    // Gold letters spread over the positions, so always answering "A" scores badly.
    const golds = new Set(dataset.samples.map((sample) => sample.answer));
    expect(golds).toEqual(new Set(['A', 'B', 'C', 'D']));
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
