import { describe, expect, it } from 'vitest';
import { dropZ, questionsOf, scoreInterval, tInterval, wilsonInterval } from '../../../src/history/stats.js';

describe('intervals', () => {
  it('gives the Wilson interval for a score and a sample size', () => {
    const [low, high] = wilsonInterval(0.9, 40) ?? [];
    expect(low).toBeCloseTo(0.7695, 4);
    expect(high).toBeCloseTo(0.9604, 4);
  });

  it('keeps Wilson inside 0..1 and not empty at a perfect or a zero score', () => {
    const [low, high] = wilsonInterval(1, 10) ?? [];
    expect(low).toBeCloseTo(0.7225, 4);
    expect(high).toBe(1);
    expect(wilsonInterval(0, 10)?.[0]).toBe(0);
    expect(wilsonInterval(0, 10)?.[1]).toBeCloseTo(0.2775, 4);
    expect(wilsonInterval(0.5, 0)).toBeNull();
  });

  it("gives Student's t interval from the spread of the passes", () => {
    // t(0.975, 4) = 2.776: 0.8 ± 2.776 × 0.02 / √5.
    const [low, high] = tInterval(0.8, 0.02, 5) ?? [];
    expect(low).toBeCloseTo(0.77517, 4);
    expect(high).toBeCloseTo(0.82483, 4);
    expect(tInterval(0.8, 0.02, 1)).toBeNull();
  });

  it('uses the passes with repeats and counts each question once otherwise', () => {
    expect(scoreInterval({ score: 0.8, num: 50, repeats: 5 }, { mean: 0.8, std: 0.02, k: 5 })).toEqual(
      tInterval(0.8, 0.02, 5),
    );
    expect(questionsOf({ num: 50, repeats: 5 })).toBe(10);
    expect(scoreInterval({ score: 0.9, num: 200, repeats: 5 })).toEqual(wilsonInterval(0.9, 40));
  });
});

describe('the drop test', () => {
  it('works the example of docs/gates.md: 36 of 40, then 33 of 40, is within the noise', () => {
    expect(dropZ({ score: 0.9, num: 40, repeats: 1 }, { score: 0.825, num: 40, repeats: 1 })).toBeCloseTo(
      0.974,
      3,
    );
  });

  it('tells a drop beyond the noise from one within it by the sample size', () => {
    expect(dropZ({ score: 0.9, num: 40, repeats: 1 }, { score: 0.7, num: 40, repeats: 1 })).toBeCloseTo(
      2.236,
      3,
    );
    expect(dropZ({ score: 0.9, num: 10, repeats: 1 }, { score: 0.7, num: 10, repeats: 1 })).toBeCloseTo(
      1.118,
      3,
    );
  });

  it('is negative for a rise and 0 between two perfect runs', () => {
    expect(dropZ({ score: 0.7, num: 40, repeats: 1 }, { score: 0.9, num: 40, repeats: 1 })).toBeLessThan(0);
    expect(dropZ({ score: 1, num: 40, repeats: 1 }, { score: 1, num: 40, repeats: 1 })).toBe(0);
  });
});
