import { compareVersions, parseVersion, type Version } from '../../util/pep440.js';

/**
 * What the EvalScope command line accepts, per version. Each rule names the first release it holds for and the
 * upstream source that shows it (paths in modelscope/evalscope), so that a new release is checked against the
 * same files.
 */
export interface EvalScopeRule {
  /** First release the rule holds for. */
  since: string;
  what: string;
  evidence: string;
}

/** The command differences evalrig renders; everything else is spelt alike in 0.17, 1.0, 1.4 and the newest. */
export interface EvalScopeCli {
  /** `--eval-type` for an OpenAI-compatible server. */
  evalType: 'service' | 'openai_api';
  /** `--no-timestamp` (results straight in `--work-dir` rather than in `<work-dir>/<YYYYMMDD_HHMMSS>/`). */
  noTimestamp: boolean;
  /** `evalscope --version`; without it the version comes from the package metadata. */
  versionFlag: boolean;
}

export const EVALSCOPE_RULES: Record<keyof EvalScopeCli, EvalScopeRule> = {
  evalType: {
    since: '1.0.0',
    what: '`--eval-type openai_api` replaces `service`, which 1.x rejects as an invalid choice',
    evidence:
      "evalscope/constants.py EvalType: SERVICE = 'service' up to 0.17.x, SERVICE = 'openai_api' from 1.0.0; evalscope/arguments.py restricts --eval-type to those choices",
  },
  noTimestamp: {
    since: '1.0.0',
    what: '`--no-timestamp` writes the results straight into --work-dir',
    evidence:
      'evalscope/arguments.py of 1.0.0 adds --no-timestamp (TaskConfig.no_timestamp in evalscope/config.py); the 0.x arguments.py has no such argument, and 0.x always adds a timestamped folder',
  },
  versionFlag: {
    since: '1.0.0',
    what: '`evalscope --version` prints `evalscope <version>`',
    evidence:
      'evalscope/cli/cli.py gained --version in the commit first tagged v1.0.0; 0.17.x exits 2 with "unrecognized arguments: --version"',
  },
};

function holds(rule: EvalScopeRule, version: Version): boolean {
  const since = parseVersion(rule.since);
  return since !== null && compareVersions(version, since) >= 0;
}

export function evalscopeCli(version: Version): EvalScopeCli {
  return {
    evalType: holds(EVALSCOPE_RULES.evalType, version) ? 'openai_api' : 'service',
    noTimestamp: holds(EVALSCOPE_RULES.noTimestamp, version),
    versionFlag: holds(EVALSCOPE_RULES.versionFlag, version),
  };
}

function releasesBetween(from: Version | undefined, to: Version | undefined): string {
  if (from && to) return `${from.raw} up to ${to.raw}`;
  if (from) return `from ${from.raw}`;
  return to ? `before ${to.raw}` : 'every release';
}

/**
 * One version for each distinct command line, oldest first, with the releases it stands for: what a dry run shows
 * when the installed version is unknown.
 */
export function commandLines(): { releases: string; version: Version }[] {
  const starts = [...new Set(Object.values(EVALSCOPE_RULES).map((rule) => rule.since))]
    .flatMap((text) => parseVersion(text) ?? [])
    .sort(compareVersions);
  const oldest: Version = { major: 0, minor: 0, patch: 0, raw: '0' };
  return [oldest, ...starts].map((version, index) => ({
    releases: releasesBetween(index === 0 ? undefined : version, starts[index]),
    version,
  }));
}

/**
 * `--use-cache <folder>`: EvalScope makes that folder its output folder (no timestamped folder below it, whatever
 * `--no-timestamp` says) and reads back `predictions/<model>/<dataset>_<subset>.jsonl`, each line one answered
 * sample, which it appends to as each answer comes. The samples found there are not asked again. It is kept apart
 * from `EVALSCOPE_RULES`: it changes the command only when a run is resumed, not per release line.
 */
export const USE_CACHE_RULE: EvalScopeRule = {
  since: '0.17.0',
  what: '`--use-cache <earlier output folder>` reuses the answers saved there and asks only the other samples',
  evidence:
    "evalscope/arguments.py: --use-cache type=str 'Path to reuse the cached results.' (0.17 and 1.x); " +
    'evalscope/run.py setup_work_directory: work_dir = use_cache, else the timestamped folder (0.17) or, from 1.0, ' +
    'that unless no_timestamp; evalscope/evaluator/evaluator.py filter_answer (0.17) and ' +
    'evalscope/api/evaluator/cache.py CacheManager.filter_prediction_cache (1.x) skip the predictions by index. ' +
    'Releases before 0.17 are not claimed: an early evalscope/run.py took --use-cache true|false',
};

/** Whether this release can continue from the answers an earlier, interrupted run of it saved. */
export function reusesPredictions(version: Version): boolean {
  return holds(USE_CACHE_RULE, version);
}
