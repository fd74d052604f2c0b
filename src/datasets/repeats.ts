/**
 * With `repeats: k` every question is asked k times; the repeat travels in the sample id as `<id>#r<n>` (n from 1),
 * so the records of a run can be scored per repeat.
 */

export function repeatId(id: string, repeat: number): string {
  return `${id}#r${repeat}`;
}

/** Splits `<id>#r<n>` into the question id and the repeat; ids without the suffix are repeat 1. */
export function parseRepeatId(id: string): { baseId: string; repeat: number } {
  const match = /^(.*)#r(\d+)$/.exec(id);
  return match?.[1] !== undefined && match[2]
    ? { baseId: match[1], repeat: Number(match[2]) }
    : { baseId: id, repeat: 1 };
}

export interface RepeatStats {
  /** One entry per repeat, in repeat order. */
  perRepeat: { repeat: number; num: number; correct: number; accuracy: number }[];
  /** Mean of the per-repeat accuracies (fraction 0..1); 0 when there are no records. */
  mean: number;
  /** Sample standard deviation (n − 1) of the per-repeat accuracies; 0 with fewer than two repeats. */
  std: number;
}

/** Accuracy of each pass (repeat number → questions asked and answered right), their mean and spread. */
export function repeatStats(
  counts: Iterable<readonly [number, { num: number; correct: number }]>,
): RepeatStats {
  const perRepeat = [...counts]
    .sort(([a], [b]) => a - b)
    .map(([repeat, { num, correct }]) => ({ repeat, num, correct, accuracy: correct / num }));
  if (perRepeat.length === 0) return { perRepeat, mean: 0, std: 0 };
  const mean = perRepeat.reduce((sum, r) => sum + r.accuracy, 0) / perRepeat.length;
  const variance =
    perRepeat.length < 2
      ? 0
      : perRepeat.reduce((sum, r) => sum + (r.accuracy - mean) ** 2, 0) / (perRepeat.length - 1);
  return { perRepeat, mean, std: Math.sqrt(variance) };
}
