import type { PredictionRecord } from '../eval/types.js';

/** One run's answer to a sample. */
export interface AnswerSide {
  extracted: string | null;
  correct: boolean;
  content: string | null;
}

/** A sample scored correct in one run and wrong in the other. */
export interface Flip {
  id: string;
  subset: string;
  gold: string;
  /** The earlier (compared) run's answer. */
  before: AnswerSide;
  after: AnswerSide;
}

function sideOf(record: PredictionRecord): AnswerSide {
  return { extracted: record.extracted, correct: record.correct, content: record.content };
}

/** The samples present in both runs whose correctness changed, in the order of `current`. */
export function findFlips(
  previous: readonly PredictionRecord[],
  current: readonly PredictionRecord[],
): Flip[] {
  const before = new Map(previous.map((record) => [record.id, record]));
  const flips: Flip[] = [];
  for (const record of current) {
    const earlier = before.get(record.id);
    if (!earlier || earlier.correct === record.correct) continue;
    flips.push({
      id: record.id,
      subset: record.subset,
      gold: record.gold,
      before: sideOf(earlier),
      after: sideOf(record),
    });
  }
  return flips;
}
