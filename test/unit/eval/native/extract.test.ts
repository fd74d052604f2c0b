import { describe, expect, it } from 'vitest';
import { extractAnswer, splitReasoning } from '../../../../src/eval/native/extract.js';
import { promptLetters, readReviews } from './evalscope-reviews.js';

const ABCD = ['A', 'B', 'C', 'D'];

describe('splitReasoning', () => {
  it('passes plain content through', () => {
    expect(splitReasoning({ content: '答案：B' })).toEqual({ content: '答案：B', reasoning: null });
  });

  it('reads reasoning_content (vLLM up to ~0.10) and reasoning (~0.13 and later)', () => {
    expect(splitReasoning({ content: '答案：A', reasoning_content: '想一想' })).toEqual({
      content: '答案：A',
      reasoning: '想一想',
    });
    expect(splitReasoning({ content: '答案：A', reasoning: '想一想' })).toEqual({
      content: '答案：A',
      reasoning: '想一想',
    });
  });

  it('does not duplicate reasoning sent under both names (the transitional versions)', () => {
    expect(
      splitReasoning({ content: '答案：C', reasoning: '好的', reasoning_content: '好的' }).reasoning,
    ).toBe('好的');
  });

  it('treats null, absent and empty fields alike', () => {
    expect(splitReasoning({ content: null, reasoning: null, reasoning_content: null })).toEqual({
      content: null,
      reasoning: null,
    });
    expect(splitReasoning({})).toEqual({ content: null, reasoning: null });
    expect(splitReasoning({ content: '', reasoning: '', reasoning_content: 'r' })).toEqual({
      content: null,
      reasoning: 'r',
    });
  });

  it('keeps an answer that a deepseek_r1 parser put in reasoning_content out of content', () => {
    expect(splitReasoning({ content: null, reasoning_content: '你好！答案：B' })).toEqual({
      content: null,
      reasoning: '你好！答案：B',
    });
  });

  it('splits an inline <think> block off the start of content (no reasoning parser)', () => {
    const message = { content: '<think>\n先比较小数。\n</think>\n\n9.8 更大。\n答案：C', reasoning: null };
    expect(splitReasoning(message)).toEqual({
      content: '9.8 更大。\n答案：C',
      reasoning: '\n先比较小数。\n',
    });
  });

  it('allows whitespace before <think>', () => {
    expect(splitReasoning({ content: '\n<think>r</think>答案：A' })).toEqual({
      content: '答案：A',
      reasoning: 'r',
    });
  });

  it('treats text before a lone </think> as reasoning (templates that put <think> in the prompt)', () => {
    expect(splitReasoning({ content: '想一想……\n</think>\n\n答案：D' })).toEqual({
      content: '答案：D',
      reasoning: '想一想……\n',
    });
  });

  it('treats an unterminated <think> as all reasoning (generation stopped while thinking)', () => {
    expect(splitReasoning({ content: '<think>\n让我想想，选项B', reasoning: null })).toEqual({
      content: null,
      reasoning: '\n让我想想，选项B',
    });
  });

  it('leaves a think block in the middle of the answer alone', () => {
    const content = '回答：<think>x</think> 答案：A';
    expect(splitReasoning({ content })).toEqual({ content, reasoning: null });
  });

  it('joins field reasoning with reasoning that leaked inline', () => {
    expect(splitReasoning({ content: '<think>b</think>答案：A', reasoning: 'a' })).toEqual({
      content: '答案：A',
      reasoning: 'a\nb',
    });
  });
});

describe('extractAnswer', () => {
  it.each([
    ['答案：B', 'B'],
    ['答案: b', 'B'],
    ['答案 ： C', 'C'],
    ['**答案：C**', 'C'],
    ['**答案**：D', 'D'],
    ['答案：**A**', 'A'],
    ['答案：B) 8个', 'B'],
    ['答案：D)', 'D'],
    ['答案：C) 9.8', 'C'],
    ['答案：[B]', 'B'],
    ['答案：(B)', 'B'],
    ['答案：（C）', 'C'],
    ['答案：【A】', 'A'],
    ['答案：B，因为它最合理。', 'B'],
    ['答案：B。', 'B'],
  ])('reads %j as %s', (content, expected) => {
    expect(extractAnswer(content, ABCD)).toBe(expected);
  });

  it('reads more than EvalScope where the model clearly answered (docs/architecture.md)', () => {
    // EvalScope's last-capital fallback would give C here: the lower-case label after the marker is read instead.
    expect(extractAnswer('答案：b，不是 C', ABCD)).toBe('B');
    expect(extractAnswer('**答案**：B，不是 C', ABCD)).toBe('B');
  });

  it('takes the last answer line when there are several', () => {
    expect(extractAnswer('初步判断\n答案：A\n再想想，不对。\n答案：C', ABCD)).toBe('C');
  });

  it('skips a restated format placeholder and takes the last real answer', () => {
    expect(
      extractAnswer('格式要求是"答案：[LETTER]"。\n我选 B。\n答案：B\n（按格式"答案：[LETTER]"）', ABCD),
    ).toBe('B');
  });

  it('falls back to an English "Answer:" line', () => {
    expect(extractAnswer('Both are fine, but the second is better.\nAnswer: B', ABCD)).toBe('B');
    expect(extractAnswer('**Answer:** (C)', ABCD)).toBe('C');
  });

  it("falls back, as EvalScope does, to the text's last capital letter when it is an option", () => {
    expect(extractAnswer('我认为最合理的是选项B。', ABCD)).toBe('B');
    expect(extractAnswer('我认为是 B，不过 OK 吗', ABCD)).toBeNull();
  });

  it('returns null when there is no answer', () => {
    expect(extractAnswer('我不确定这道题的答案。', ABCD)).toBeNull();
    expect(extractAnswer('', ABCD)).toBeNull();
    expect(extractAnswer(null, ABCD)).toBeNull();
  });

  it('ignores a letter that is not one of the options', () => {
    expect(extractAnswer('答案：E', ABCD)).toBeNull();
    expect(extractAnswer('答案：C', ['A', 'B'])).toBeNull();
    expect(extractAnswer('答案：A\n答案：E', ABCD)).toBe('A');
  });

  it('does not read a word as a label', () => {
    expect(extractAnswer('答案：because it rains', ['A', 'B'])).toBeNull();
    expect(extractAnswer('答案：D\n答案：Cat', ABCD)).toBe('D');
    expect(extractAnswer('答案：D\n答案：bad', ABCD)).toBe('D');
  });

  it('scores several options at once as no answer, as EvalScope does', () => {
    expect(extractAnswer('答案：AB', ABCD)).toBeNull();
    expect(extractAnswer('答案：C\n答案：AB', ABCD)).toBeNull();
  });
});

describe('extractAnswer on EvalScope review files (fixtures in both review formats)', () => {
  // extracted_prediction in each line is the letter EvalScope's parse_answers_zh (evalscope/utils/multi_choices.py)
  // reads from the reply; the fixture states it, the test checks that we read the same letter.
  for (const format of ['newer', 'older'] as const) {
    for (const subset of ['IQ', 'EQ'] as const) {
      it(`matches EvalScope's extracted_prediction for the ${format} format, ${subset}`, () => {
        const reviews = readReviews(format, subset);
        expect(reviews).toHaveLength(10);
        for (const review of reviews) {
          const { prediction, extracted_prediction } = review.sample_score.score;
          expect(extractAnswer(prediction, promptLetters(review)), `${subset} #${review.index}`).toBe(
            extracted_prediction,
          );
        }
      });
    }
  }

  it('covers the final-line variants the older format has (a label followed by its option text)', () => {
    const lastLines = readReviews('older', 'IQ').map((review) =>
      review.sample_score.score.prediction.split('\n').at(-1),
    );
    expect(lastLines).toEqual(
      expect.arrayContaining(['答案：A) 8页', '答案：B) 4个', '答案：D)', '答案：A) 3.3']),
    );
  });
});
