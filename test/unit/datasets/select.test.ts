import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadMcqDataset } from '../../../src/datasets/mcq/load.js';
import { parseRepeatId, repeatStats } from '../../../src/datasets/repeats.js';
import { seededRandom, seededShuffle, selectSamples } from '../../../src/datasets/select.js';
import type { Sample } from '../../../src/datasets/types.js';
import { FIXTURES } from '../../paths.js';

const iquizLike = join(FIXTURES, 'datasets', 'iquiz-like');

function sample(subset: string, index: number, choices = ['w', 'x', 'y', 'z'], answer = 'B'): Sample {
  return { id: `${subset}-${index}`, subset, question: `q${index}`, choices, answer, meta: {} };
}
const tenOf = (subset: string): Sample[] => Array.from({ length: 10 }, (_, i) => sample(subset, i));

describe('seeded generator', () => {
  it('draws the same numbers on every machine (golden values)', () => {
    const random = seededRandom('evalrig');
    expect([random(), random(), random()]).toEqual([0.41658721328713, 0.736350747058168, 0.8674827916547656]);
    expect(seededShuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], '0:IQ')).toEqual([2, 1, 9, 8, 5, 3, 4, 0, 6, 7]);
    expect(seededShuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], '1:IQ')).toEqual([0, 7, 4, 6, 2, 1, 3, 8, 5, 9]);
  });

  it('does not change its input', () => {
    const items = [1, 2, 3];
    seededShuffle(items, 'k');
    expect(items).toEqual([1, 2, 3]);
  });
});

describe('selectSamples', () => {
  it('limit keeps the first n of each subset', () => {
    const chosen = selectSamples([...tenOf('IQ'), ...tenOf('EQ')], { limit: 2 });
    expect(chosen.map((s) => s.id)).toEqual(['IQ-0', 'IQ-1', 'EQ-0', 'EQ-1']);
  });

  it('shuffle is seeded per subset, before the limit', () => {
    const samples = [...tenOf('IQ'), ...tenOf('EQ')];
    const first = selectSamples(samples, { shuffle: true, seed: 0, limit: 3 });
    expect(first.map((s) => s.id)).toEqual(['IQ-2', 'IQ-1', 'IQ-9', ...first.slice(3).map((s) => s.id)]);
    expect(selectSamples(samples, { shuffle: true, seed: 0, limit: 3 })).toEqual(first);
    expect(selectSamples(samples, { shuffle: true, seed: 1, limit: 3 }).map((s) => s.id)).not.toEqual(
      first.map((s) => s.id),
    );
    // Dropping a subset leaves the order within the others unchanged.
    const onlyIq = selectSamples(samples, { shuffle: true, seed: 0, limit: 3, subsets: ['IQ'] });
    expect(onlyIq).toEqual(first.slice(0, 3));
  });

  it('keeps the options in place unless shuffle_choices is set', () => {
    const [kept] = selectSamples([sample('IQ', 0)], { shuffle: true, seed: 3 });
    expect(kept?.choices).toEqual(['w', 'x', 'y', 'z']);
  });

  it('repeats: every sample k times, repeat by repeat, ids <id>#r<n> and meta.repeat', () => {
    const chosen = selectSamples([sample('IQ', 0), sample('IQ', 1)], { repeats: 3 });
    expect(chosen.map((s) => [s.id, s.meta['repeat']])).toEqual([
      ['IQ-0#r1', 1],
      ['IQ-1#r1', 1],
      ['IQ-0#r2', 2],
      ['IQ-1#r2', 2],
      ['IQ-0#r3', 3],
      ['IQ-1#r3', 3],
    ]);
    expect(selectSamples([sample('IQ', 0)], { repeats: 1 })[0]?.id).toBe('IQ-0');
  });

  it('shuffle_choices moves the gold letter with its option, records the old letters, and differs per repeat', () => {
    const original = sample('IQ', 0, ['w', 'x', 'y', 'z'], 'B');
    const asked = selectSamples([original], { shuffle_choices: true, seed: 7, repeats: 4 });
    for (const s of asked) {
      expect([...s.choices].sort()).toEqual(['w', 'x', 'y', 'z']);
      expect(s.choices['ABCD'.indexOf(s.answer)]).toBe('x');
      const order = s.meta['choice_order'] as string[];
      expect(order.map((letter) => original.choices['ABCD'.indexOf(letter)])).toEqual(s.choices);
    }
    expect(new Set(asked.map((s) => s.choices.join(''))).size).toBeGreaterThan(1);
    expect(selectSamples([original], { shuffle_choices: true, seed: 7, repeats: 4 })).toEqual(asked);
  });
});

describe('loadMcqDataset with limit, shuffle and repeats', () => {
  it('is deterministic for a seed and applies limit per subset before repeats', async () => {
    const load = () =>
      loadMcqDataset({
        path: iquizLike,
        subsets: ['IQ', 'EQ'],
        limit: 2,
        options: { shuffle: true, seed: 11, repeats: 2 },
      });
    const first = await load();
    expect(first.samples).toHaveLength(8);
    expect(first.samples.filter((s) => s.meta['repeat'] === 1).map((s) => s.subset)).toEqual([
      'IQ',
      'IQ',
      'EQ',
      'EQ',
    ]);
    expect((await load()).samples).toEqual(first.samples);
    const baseIds = first.samples.map((s) => parseRepeatId(s.id).baseId);
    expect(baseIds.slice(0, 4)).toEqual(baseIds.slice(4));
  });
});

/** Questions asked and answered right per pass, as the scorer counts them. */
function passCounts(
  records: { id: string; correct: boolean }[],
): Map<number, { num: number; correct: number }> {
  const counts = new Map<number, { num: number; correct: number }>();
  for (const { id, correct } of records) {
    const { repeat } = parseRepeatId(id);
    const count = counts.get(repeat) ?? { num: 0, correct: 0 };
    counts.set(repeat, { num: count.num + 1, correct: count.correct + (correct ? 1 : 0) });
  }
  return counts;
}

describe('repeatStats', () => {
  it('gives accuracy per repeat, their mean and sample standard deviation', () => {
    const records = [
      { id: 'IQ-0#r1', correct: true },
      { id: 'IQ-1#r1', correct: true },
      { id: 'IQ-0#r2', correct: true },
      { id: 'IQ-1#r2', correct: false },
      { id: 'IQ-0#r3', correct: false },
      { id: 'IQ-1#r3', correct: false },
    ];
    const stats = repeatStats(passCounts(records));
    expect(stats.perRepeat).toEqual([
      { repeat: 1, num: 2, correct: 2, accuracy: 1 },
      { repeat: 2, num: 2, correct: 1, accuracy: 0.5 },
      { repeat: 3, num: 2, correct: 0, accuracy: 0 },
    ]);
    expect(stats.mean).toBeCloseTo(0.5, 12);
    expect(stats.std).toBeCloseTo(0.5, 12); // sqrt(((0.5)² + 0² + (0.5)²) / 2)
  });

  it('treats ids without #r as one repeat, and is all zero for no records', () => {
    expect(
      repeatStats(
        passCounts([
          { id: 'a', correct: true },
          { id: 'b', correct: false },
        ]),
      ),
    ).toEqual({
      perRepeat: [{ repeat: 1, num: 2, correct: 1, accuracy: 0.5 }],
      mean: 0.5,
      std: 0,
    });
    expect(repeatStats(new Map())).toEqual({ perRepeat: [], mean: 0, std: 0 });
  });

  it('parseRepeatId splits the suffix', () => {
    expect(parseRepeatId('IQ-3#r12')).toEqual({ baseId: 'IQ-3', repeat: 12 });
    expect(parseRepeatId('IQ-3')).toEqual({ baseId: 'IQ-3', repeat: 1 });
  });
});
