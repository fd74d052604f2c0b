import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIquizJsonl } from '../../../../src/datasets/iquiz.js';
import { choiceLetters } from '../../../../src/datasets/letters.js';
import { renderPrompt } from '../../../../src/eval/native/prompt.js';
import { fixturePath, readReviews } from './evalscope-reviews.js';

/** The quiz records the fixture runs were asked (test/fixtures/iquiz/). */
function records(subset: 'IQ' | 'EQ') {
  const file = fixturePath(`iquiz/${subset}.first10.jsonl`);
  return parseIquizJsonl(readFileSync(file, 'utf8'), subset, file).samples;
}

function record(subset: 'IQ' | 'EQ', index: number) {
  const sample = records(subset)[index];
  if (!sample) throw new Error(`no ${subset} #${index} in the fixture`);
  return sample;
}

describe('renderPrompt', () => {
  for (const subset of ['IQ', 'EQ'] as const) {
    it(`reproduces EvalScope's prompt byte for byte for the 10 ${subset} records`, () => {
      // The review prompts were filled from EvalScope's CHINESE_SINGLE_ANSWER_TEMPLATE_COT text
      // (evalscope/utils/multi_choices.py) with Python's str.format, as EvalScope's prompt() does.
      const samples = records(subset);
      const reviews = readReviews('newer', subset);
      expect(samples).toHaveLength(10);
      expect(reviews).toHaveLength(10);
      for (const review of reviews) {
        const sample = samples[review.index];
        expect(sample, `record ${review.index}`).toBeDefined();
        if (sample) expect(renderPrompt(sample)).toBe(review.messages?.[0]?.content);
      }
    });
  }

  it('keeps a trailing space and an embedded newline in the question (IQ #5, IQ #6)', () => {
    expect(renderPrompt(record('IQ', 5))).toContain('照这样敲 12 下要用几秒？ \n选项：\nA) 10秒\n');
    expect(renderPrompt(record('IQ', 6))).toContain(
      '问题：观察下面的数列，找出规律：\n1, 1, 2, 3, 5, 8, ?\n选项：\n',
    );
  });

  it('offers A to E for a five-option question (IQ #7)', () => {
    const prompt = renderPrompt(record('IQ', 7));
    expect(prompt).toContain('其中 [LETTER] 是 A,B,C,D,E 中的一个。');
    expect(prompt.endsWith('\nD) 甲和乙\nE) 无法确定\n')).toBe(true);
  });

  it('inserts question text literally, even when it looks like a placeholder or a replacement pattern', () => {
    const prompt = renderPrompt({
      id: 'X-0',
      subset: 'X',
      question: 'Is {choices} $& a trick?',
      choices: ['yes', 'no'],
      answer: 'A',
      meta: {},
    });
    expect(prompt).toContain('问题：Is {choices} $& a trick?\n选项：\nA) yes\nB) no\n');
    expect(prompt).toContain('其中 [LETTER] 是 A,B 中的一个。');
  });
});

describe('choiceLetters', () => {
  it('labels options A, B, C, …', () => {
    expect(choiceLetters(4)).toEqual(['A', 'B', 'C', 'D']);
    expect(choiceLetters(0)).toEqual([]);
  });
});
