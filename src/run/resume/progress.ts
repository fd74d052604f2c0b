import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalProgress, PreparedEval } from '../../eval/evaluator.js';
import { evaluatorFor } from '../../eval/registry.js';
import { evalDirOf } from '../run-dir.js';
import type { EvalProgressSummary, RunSummary, SampleProgress } from '../summary.js';

/** Every evaluator appends one line per finished sample here (architecture: the run's files). */
const PREDICTIONS_FILE = 'predictions.jsonl';

/**
 * The samples of `ids` whose newest record in the file is finished: an answer, or an error the server will give
 * again (`error_kind: permanent`). A transient error is asked again on resume, so it does not count.
 */
function finished(file: string, ids: ReadonlySet<string>): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  const newest = new Map<string, boolean>();
  // What follows the last newline is empty, or a line torn by a kill mid-write.
  for (const line of text.split('\n').slice(0, -1)) {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      continue;
    }
    if (typeof record !== 'object' || record === null) continue;
    const {
      id,
      error = null,
      error_kind: kind,
    } = record as { id?: unknown; error?: unknown; error_kind?: unknown };
    if (typeof id === 'string' && ids.has(id)) newest.set(id, error === null || kind === 'permanent');
  }
  return [...newest.values()].filter(Boolean).length;
}

/** An evaluation whose evaluator does not say: its prepared samples' finished predictions, if it has samples. */
function countedProgress(evalDir: string, { samples }: PreparedEval): EvalProgress {
  if (samples.length === 0)
    return { done: null, total: null, resume: 'a resume runs it again from its start' };
  const done = finished(join(evalDir, PREDICTIONS_FILE), new Set(samples.map((sample) => sample.id)));
  const left = samples.length - done;
  return {
    done,
    total: samples.length,
    resume: left === 0 ? 'a resume asks none of them again' : `a resume asks the other ${left}`,
  };
}

/** How far each evaluation got, from what is on disk, and what a resume does with it. */
export function evalProgress(runDir: string, prepared: readonly PreparedEval[]): EvalProgressSummary[] {
  return prepared.map((evaluation) => {
    const evalDir = evalDirOf(runDir, evaluation.spec.name);
    const own = evaluatorFor(evaluation.spec).progress?.(evaluation, evalDir);
    return { name: evaluation.spec.name, ...(own ?? countedProgress(evalDir, evaluation)) };
  });
}

/**
 * The samples done of the evaluations whose samples evalrig knows; null when none has any, so that a run of
 * EvalScope or load tests alone is not reported as "0 of 0 samples done".
 */
export function sampleProgress(progress: readonly EvalProgress[]): SampleProgress | null {
  let done = 0;
  let total = 0;
  for (const evaluation of progress) {
    if (evaluation.total === null) continue;
    done += evaluation.done ?? 0;
    total += evaluation.total;
  }
  return total === 0 ? null : { done, total };
}

/** The summary's account of how far a run got: `samples` always, each evaluation's progress when it ended early. */
export function runProgress(
  runDir: string,
  prepared: readonly PreparedEval[] | undefined,
  endedEarly: boolean,
): Pick<RunSummary, 'samples' | 'eval_progress'> {
  if (!prepared) return { samples: null };
  const progress = evalProgress(runDir, prepared);
  return { samples: sampleProgress(progress), ...(endedEarly && { eval_progress: progress }) };
}
