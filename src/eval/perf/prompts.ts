/**
 * Random prompts whose length is exact in the server's own tokens. Words are drawn from common English words of
 * at most three letters, one token each with their leading space in BPE vocabularies, so that the count moves by
 * about one per word added or removed; the server's `POST /tokenize` (chat template included) says where a draft
 * stands, and a few rounds land on the target. Every prompt is drawn afresh, so prefix caching cannot shorten a
 * later request.
 */

const WORDS = (
  'the of and to in is it you he was for on are as his at be or one had by but not all we can an do if up ' +
  'out so her him has two see way who its now day did get may new any man own old big few let put say she ' +
  'too use our off sun set end why try ask men run far sea eye car yes red box top cut'
).split(' ');

const MAX_ROUNDS = 8;

/** A generator seeded from a number (mulberry32): the same `prompts.seed` gives the same prompts and lengths. */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A length drawn uniformly from [L·(1−r), L·(1+r)], at least 1, as vllm bench serve's random dataset. */
export function drawLength(random: () => number, length: number, rangeRatio: number): number {
  const low = Math.max(1, Math.floor(length * (1 - rangeRatio)));
  const high = Math.max(low, Math.floor(length * (1 + rangeRatio)));
  return low + Math.floor(random() * (high - low + 1));
}

/** How many tokens the server counts for a user message with this text, chat template included. */
export type CountPromptTokens = (text: string) => Promise<number>;

/** Words whose prompt the server counts as exactly `target` tokens. */
export async function calibratedPrompt(
  random: () => number,
  target: number,
  countTokens: CountPromptTokens,
): Promise<string> {
  const words: string[] = [];
  const addWords = (count: number) => {
    for (let i = 0; i < count; i += 1) words.push(WORDS[Math.floor(random() * WORDS.length)] ?? 'the');
  };
  addWords(target);
  let counted = 0;
  for (let round = 0; round < MAX_ROUNDS; round += 1) {
    counted = await countTokens(words.join(' '));
    const missing = target - counted;
    if (missing === 0) return words.join(' ');
    if (missing < 0 && words.length === 0) {
      throw new Error(
        `input_tokens ${target} is too short: the chat template alone costs ${counted} tokens; ` +
          `set input_tokens to ${counted + 1} or more`,
      );
    }
    if (missing > 0) addWords(missing);
    else words.length = Math.max(0, words.length + missing);
  }
  throw new Error(
    `no prompt of exactly ${target} tokens found in ${MAX_ROUNDS} rounds of POST /tokenize (last: ${counted})`,
  );
}

/**
 * The `round`-th reuse of a calibrated prompt: its first word replaced by another one-token word, so that a
 * server's prefix cache cannot serve it from an earlier use while its length stays the same.
 */
export function reusedPrompt(text: string, round: number): string {
  if (round === 0) return text;
  const first = /^\S+/.exec(text)?.[0];
  // The words other than the original first one: each round up to their count gets a prompt of its own.
  const others = WORDS.filter((word) => word !== first);
  return text.replace(/^\S+/, others[(round - 1) % others.length] ?? 'the');
}
