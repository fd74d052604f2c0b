import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The fields of an EvalScope review line that the tests use; both the 2025-11 and the 2026 shapes have them. */
export interface ReviewLine {
  index: number;
  target: string;
  /** Present in the 2026 format only: `[user, assistant]`. */
  messages?: { role: string; content: string }[];
  /** Present in the 2025-11 format only: `**User**: \n<prompt>`. */
  input?: string;
  sample_score: {
    score: { value: { acc: number }; extracted_prediction: string; prediction: string };
  };
}

export const fixturePath = (relative: string): string =>
  fileURLToPath(new URL(`../fixtures/${relative}`, import.meta.url));

export function readReviews(run: 'qwen-plus' | 'qwen2.5-7b-instruct', subset: 'IQ' | 'EQ'): ReviewLine[] {
  const folder =
    run === 'qwen-plus'
      ? 'evalscope/viz-qwen-plus/reviews/qwen-plus'
      : 'evalscope/viz-qwen2.5-7b-instruct-2025-11/reviews/qwen2.5-7b-instruct';
  return readFileSync(fixturePath(`${folder}/iquiz_${subset}.jsonl`), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as ReviewLine);
}

/** The option letters the prompt offered, read from its header (`… 是 A,B,C,D 中的一个`). */
export function promptLetters(review: ReviewLine): string[] {
  const prompt = review.messages?.[0]?.content ?? review.input ?? '';
  const letters = /是 ([A-Z](?:,[A-Z])*) 中的一个/.exec(prompt)?.[1];
  if (!letters) throw new Error(`review ${review.index}: no letter list in the prompt`);
  return letters.split(',');
}
