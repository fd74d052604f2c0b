import { join } from 'node:path';
import type { Version } from '../../util/pep440.js';
import type { EvalProgress } from '../evaluator.js';
import { countSavedPredictions, findOutputFolder } from './results.js';
import { reusesPredictions, USE_CACHE_RULE } from './rules.js';

/** EvalScope's `--work-dir`, below the evaluation's folder. */
export const EVALSCOPE_WORK_DIR = 'evalscope-output';

/**
 * The output folder of an earlier attempt whose saved answers a resume hands to `--use-cache`: the timestamped
 * folder of 0.x, the work dir itself from 1.0 (`--no-timestamp`). Undefined where the release cannot reuse answers
 * or none were saved: EvalScope then starts afresh.
 */
export function reusableOutput(evalDir: string, version: Version): string | undefined {
  if (!reusesPredictions(version)) return undefined;
  return findOutputFolder(join(evalDir, EVALSCOPE_WORK_DIR), 'predictions');
}

/** What EvalScope saved in an interrupted run, and whether a resume picks it up. */
export function evalscopeProgress(
  evalDir: string,
  version: Version,
  datasets: readonly string[],
): EvalProgress {
  if (!reusesPredictions(version))
    return {
      done: null,
      total: null,
      resume: `EvalScope ${version.raw} cannot reuse its answers (--use-cache needs ${USE_CACHE_RULE.since} or later): a resume runs it from its start`,
    };
  const folder = reusableOutput(evalDir, version);
  const saved = folder === undefined ? 0 : countSavedPredictions(folder, datasets);
  if (saved === 0)
    return { done: 0, total: null, resume: 'EvalScope saved no answers: a resume runs it from its start' };
  return {
    done: saved,
    total: null,
    resume: `EvalScope saved ${saved} answers: a resume hands them to --use-cache and asks only the other samples`,
  };
}
