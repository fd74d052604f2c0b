import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { PreparedEval } from '../../eval/evaluator.js';
import { evalDirOf } from '../run-dir.js';
import type { SampleProgress } from '../summary.js';

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

/** How far a run's evaluations got, from their predictions on disk. */
export function sampleProgress(runDir: string, prepared: readonly PreparedEval[]): SampleProgress {
  let done = 0;
  let total = 0;
  for (const { spec, samples } of prepared) {
    const file = join(evalDirOf(runDir, spec.name), PREDICTIONS_FILE);
    done += finished(file, new Set(samples.map((sample) => sample.id)));
    total += samples.length;
  }
  return { done, total };
}
