import { createRequire } from 'node:module';

const requireHere = createRequire(import.meta.url);

/**
 * The arithmetic behind the intervals in summary.json and the `significant` drop test (docs/gates.md works an
 * example of each). Scores are fractions 0..1 of samples answered right.
 */

/**
 * Student's t quantile, loaded on the first interval that needs it: the package is some 400 small modules, which
 * every command that merely reads a summary (a dry run) would otherwise load at start-up.
 */
function tQuantile(p: number, degreesOfFreedom: number): number {
  const quantile = requireHere('@stdlib/stats-base-dists-t-quantile') as (p: number, v: number) => number;
  return quantile(p, degreesOfFreedom);
}

/** A 95 % interval `[low, high]`, as summary.json writes it. */
export type Interval = [low: number, high: number];

/** The standard normal quantile for 97.5 %: two-sided 95 % for the intervals and the drop test alike. */
export const Z95 = 1.959963984540054;

/**
 * The Wilson score interval for `score` right out of `n` samples. Unlike the textbook `p ± z·√(p(1−p)/n)` it
 * stays inside 0..1 and is not empty at a score of 0 or 1, which small evaluations and the simulator's perfect
 * model often reach.
 */
export function wilsonInterval(score: number, n: number): Interval | null {
  if (n <= 0) return null;
  const z2 = Z95 * Z95;
  const centre = (score + z2 / (2 * n)) / (1 + z2 / n);
  const half = (Z95 / (1 + z2 / n)) * Math.sqrt((score * (1 - score)) / n + z2 / (4 * n * n));
  // At 0 and 1 the bound on that side is exactly the score; the arithmetic would miss it by a rounding.
  return [score === 0 ? 0 : clamp(centre - half), score === 1 ? 1 : clamp(centre + half)];
}

/**
 * Student's t interval for the mean of `k` passes over the same questions with sample standard deviation `std`:
 * mean ± t(0.975, k−1)·std/√k. It measures how much the score moves from pass to pass (decoding noise), not how it
 * would move on other questions.
 */
export function tInterval(mean: number, std: number, k: number): Interval | null {
  if (k < 2) return null;
  const half = tQuantile(0.975, k - 1) * (std / Math.sqrt(k));
  return [clamp(mean - half), clamp(mean + half)];
}

/** What an interval or a test needs to know about one score. */
export interface ScoreSample {
  score: number;
  /** Samples scored: with `repeats: k`, every question counts k times. */
  num: number;
  /** Passes over the questions (1 without `repeats`). */
  repeats: number;
}

/**
 * The questions behind a score. With repeats the k answers to one question are not independent samples; counting
 * the question once treats its mean over the passes as one sample, whose variance is at most p(1−p): an interval
 * or test built on it can only be wider than the truth, never narrower.
 */
export function questionsOf(sample: Pick<ScoreSample, 'num' | 'repeats'>): number {
  return Math.round(sample.num / Math.max(1, sample.repeats));
}

/** The 95 % interval of an evaluation's overall score: from the passes' spread with repeats, else Wilson. */
export function scoreInterval(
  sample: ScoreSample,
  passes?: { mean: number; std: number; k: number },
): Interval | null {
  if (passes && passes.k >= 2) return tInterval(passes.mean, passes.std, passes.k);
  return wilsonInterval(sample.score, questionsOf(sample));
}

/** The pooled two-proportion z statistic of `before` − `now`: positive when the score dropped. */
export function dropZ(before: ScoreSample, now: ScoreSample): number {
  const n1 = questionsOf(before);
  const n2 = questionsOf(now);
  if (n1 === 0 || n2 === 0) return 0;
  const pooled = (before.score * n1 + now.score * n2) / (n1 + n2);
  const se = Math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2));
  // No spread only when both runs scored all right (or all wrong): then nothing dropped.
  return se === 0 ? 0 : (before.score - now.score) / se;
}

function clamp(value: number): number {
  return Math.min(1, Math.max(0, value));
}
