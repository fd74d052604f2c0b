import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIquizJsonl } from '../../src/datasets/iquiz.js';
import { choiceLetters, renderPrompt } from '../../src/eval/native/prompt.js';
import { fixturePath, readReviews } from './evalscope-reviews.js';

function reconstructed(subset: 'IQ' | 'EQ') {
  const file = fixturePath(`iquiz/${subset}.first10.reconstructed.jsonl`);
  return parseIquizJsonl(readFileSync(file, 'utf8'), subset, file).samples;
}

describe('renderPrompt', () => {
  for (const subset of ['IQ', 'EQ'] as const) {
    it(`reproduces EvalScope's prompt byte for byte for the 10 ${subset} records`, () => {
      const samples = reconstructed(subset);
      const reviews = readReviews('qwen-plus', subset);
      expect(samples).toHaveLength(10);
      expect(reviews).toHaveLength(10);
      for (const review of reviews) {
        const sample = samples[review.index];
        expect(sample, `record ${review.index}`).toBeDefined();
        if (sample) expect(renderPrompt(sample)).toBe(review.messages?.[0]?.content);
      }
    });
  }

  it('renders the shortest IQuiz prompt (IQ #2) at 146 characters, the published minimum', () => {
    const sample = reconstructed('IQ')[2];
    expect(sample && renderPrompt(sample).length).toBe(146);
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
