import { choiceLetter, letterIndex } from './letters.js';
import { repeatId } from './repeats.js';
import type { Sample } from './types.js';

/** cyrb128: spreads a string over four 32-bit words, to seed sfc32. */
function hashToSeed(key: string): [number, number, number, number] {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let i = 0; i < key.length; i++) {
    const k = key.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

/**
 * sfc32 seeded from a string. Only 32-bit integer arithmetic, so every machine and Node version draws the same
 * sequence (Math.random cannot be seeded, and its algorithm is the engine's choice).
 */
export function seededRandom(key: string): () => number {
  let [a, b, c, d] = hashToSeed(key);
  return () => {
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

/** Fisher–Yates with a seeded generator; returns a new array. */
export function seededShuffle<T>(items: readonly T[], key: string): T[] {
  const random = seededRandom(key);
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j] as T, result[i] as T];
  }
  return result;
}

export interface SelectOptions {
  /** Keep these subsets, in this order; default: every subset in the order first seen. */
  subsets?: string[];
  /** At most this many samples per subset, taken after the shuffle. */
  limit?: number;
  shuffle?: boolean;
  shuffle_choices?: boolean;
  seed?: number;
  repeats?: number;
}

/** Moves the options into a seeded order and the gold letter with them; `meta.choice_order` keeps the old letters. */
function shuffleChoices(sample: Sample, key: string): Sample {
  const order = seededShuffle(
    sample.choices.map((_, index) => index),
    key,
  );
  const goldIndex = letterIndex(sample.answer);
  return {
    ...sample,
    choices: order.map((index) => sample.choices[index] as string),
    answer: choiceLetter(order.indexOf(goldIndex)),
    meta: { ...sample.meta, choice_order: order.map(choiceLetter) },
  };
}

/**
 * Picks and orders the samples to ask. Each subset is shuffled with its own key (`<seed>:<subset>`), so adding a
 * subset does not reorder the others. With repeats k > 1 every sample is asked k times, repeat by repeat, with id
 * `<id>#r<n>` and `meta.repeat = n` (n from 1); choice order, when shuffled, differs between repeats.
 */
export function selectSamples(samples: readonly Sample[], select: SelectOptions = {}): Sample[] {
  const { limit, shuffle = false, shuffle_choices = false, seed = 0, repeats = 1 } = select;
  const bySubset = new Map<string, Sample[]>();
  for (const sample of samples) {
    const group = bySubset.get(sample.subset);
    if (group) group.push(sample);
    else bySubset.set(sample.subset, [sample]);
  }
  const chosen = (select.subsets ?? [...bySubset.keys()]).flatMap((subset) => {
    const group = bySubset.get(subset) ?? [];
    const ordered = shuffle ? seededShuffle(group, `${seed}:${subset}`) : group;
    return limit === undefined ? ordered : ordered.slice(0, limit);
  });

  const result: Sample[] = [];
  for (let repeat = 1; repeat <= repeats; repeat++) {
    for (const sample of chosen) {
      const asked =
        repeats > 1
          ? { ...sample, id: repeatId(sample.id, repeat), meta: { ...sample.meta, repeat } }
          : sample;
      result.push(shuffle_choices ? shuffleChoices(asked, `${seed}:${asked.id}`) : asked);
    }
  }
  return result;
}
