import { describe, expect, it } from 'vitest';
import { histogram } from '../../../src/report/histogram.js';

const points = (values: number[], group = 'correct') => values.map((value) => ({ value, group }));

describe('histogram', () => {
  it('bins of a round width cover every value, each counted once', () => {
    const values = [412, 455, 530, 531, 599, 640, 1210];
    const edges = histogram(points(values), ['correct'])?.edges ?? [];
    const counts = histogram(points(values), ['correct'])?.series[0]?.counts ?? [];
    expect(edges.slice(0, 3)).toEqual([400, 450, 500]);
    expect(edges.at(-1)).toBeGreaterThan(1210);
    expect(counts.reduce((a, b) => a + b, 0)).toBe(values.length);
    expect(counts.length).toBeLessThanOrEqual(21);
  });

  it('puts a value on an edge into the bin that starts there', () => {
    const data = histogram(points([0, 10, 20, 20]), ['correct'], 2);
    expect(data?.edges).toEqual([0, 10, 20, 30]);
    expect(data?.series[0]?.counts).toEqual([1, 1, 2]);
  });

  it('keeps one series per group, in the order given, for stacking', () => {
    const data = histogram([...points([1, 2, 3]), ...points([3, 3], 'wrong')], ['correct', 'wrong']);
    expect(data?.series.map((series) => series.name)).toEqual(['correct', 'wrong']);
    expect(data?.series[1]?.counts.reduce((a, b) => a + b, 0)).toBe(2);
  });

  it('never makes bins narrower than 1 (milliseconds, tokens)', () => {
    const data = histogram(points([7, 7, 8]), ['correct']);
    expect(data?.edges).toEqual([7, 8, 9]);
    expect(histogram(points([5, 5, 5]), ['correct'])?.series[0]?.counts).toEqual([3]);
  });

  it('is null without values', () => {
    expect(histogram([], ['correct'])).toBeNull();
  });
});
