import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES } from '../../../paths.js';

/**
 * The fields of an EvalScope review line that the tests use; both review shapes have them. The fixtures
 * (test/fixtures/evalscope/, see test/fixtures/SOURCE.md) are written for evalrig in the shapes of EvalScope's
 * `reviews/<model>/<dataset>_<subset>.jsonl` files: the newer one with `messages`, the older one with `input`.
 */
export interface ReviewLine {
  index: number;
  target: string;
  /** Present in the newer format only: `[user, assistant]`. */
  messages?: { role: string; content: string }[];
  /** Present in the older format only: `**User**: \n<prompt>`. */
  input?: string;
  sample_score: {
    score: { value: { acc: number }; extracted_prediction: string; prediction: string };
  };
}

export const fixturePath = (relative: string): string => join(FIXTURES, relative);

/** The two fixture runs: `newer` (review lines with `messages`), `older` (review lines with `input`). */
export type ReviewFormat = 'newer' | 'older';

const MODELS: Record<ReviewFormat, string> = { newer: 'quiz-model-a', older: 'quiz-model-b' };

/** The report of a fixture run: `reports/<model>/iquiz.json`. */
export const reportPath = (format: ReviewFormat): string =>
  fixturePath(`evalscope/${format}-format/reports/${MODELS[format]}/iquiz.json`);

export function readReviews(format: ReviewFormat, subset: 'IQ' | 'EQ'): ReviewLine[] {
  const folder = `evalscope/${format}-format/reviews/${MODELS[format]}`;
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
