import { describe, expect, it } from 'vitest';
import { DurationSchema, durationSeconds } from '../../../src/plan/duration.js';

describe('durations', () => {
  it.each([
    [90, 90],
    [0.5, 0.5],
    ['90', 90],
    ['90s', 90],
    ['10m', 600],
    ['1h', 3600],
    ['1h30m', 5400],
    ['2m30s', 150],
    ['500ms', 0.5],
    ['1.5h', 5400],
  ])('reads %j as %d seconds', (input, seconds) => {
    expect(DurationSchema.parse(input)).toBe(seconds);
    expect(durationSeconds(input)).toBe(seconds);
  });

  it.each(['10 minutes', '1d', 'm10', '', '-5s', true])(
    'rejects %j, naming the forms it accepts',
    (input) => {
      const result = DurationSchema.safeParse(input);
      expect(result.success).toBe(false);
      expect(result.error?.issues[0]?.message).toMatch(/seconds \(90\) or as a text with units ms, s, m, h/);
    },
  );

  it.each([0, -1, '0s', '0m0s'])('rejects %j: a duration is longer than 0', (input) => {
    expect(DurationSchema.safeParse(input).success).toBe(false);
  });
});
