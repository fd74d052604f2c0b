import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../../errors.js';
import { expandHome } from '../../util/paths.js';
import { MANIFEST_FILE, planRunsDir, RESOLVED_PLAN_FILE, RUN_ID_PATTERN } from '../run-dir.js';
import { pastablePath } from './command-line.js';

/** Where `--resume` looks, and what the plan being run needs: a run's folder, or a matrix's. */
export interface ResumeSearch {
  outputDir: string;
  planName: string;
  matrix: boolean;
  /** The command that starts a fresh run, for the messages. */
  freshCommand: string;
}

/**
 * A run's folder has its manifest; a matrix's folder has its plan and one run folder per variant. Folders that
 * hold neither are not evalrig's.
 */
function kindOf(dir: string): 'run' | 'matrix' | undefined {
  if (existsSync(join(dir, MANIFEST_FILE))) return 'run';
  if (existsSync(join(dir, RESOLVED_PLAN_FILE))) return 'matrix';
  return undefined;
}

/** Newest first: by time stamp, then by the `-N` of runs started within the same second. */
function newestFirst(a: string, b: string): number {
  const [, stampA = '', nA = '1'] = RUN_ID_PATTERN.exec(a) ?? [];
  const [, stampB = '', nB = '1'] = RUN_ID_PATTERN.exec(b) ?? [];
  return stampB.localeCompare(stampA) || Number(nB) - Number(nA);
}

function newestRun(search: ResumeSearch): string {
  const base = planRunsDir(search.outputDir, search.planName);
  const wanted = search.matrix ? 'matrix' : 'run';
  const names = existsSync(base) ? readdirSync(base).filter((name) => RUN_ID_PATTERN.test(name)) : [];
  const newest = names.sort(newestFirst).find((name) => kindOf(join(base, name)) === wanted);
  if (newest === undefined)
    throw new UserError(
      `--resume latest: plan ${search.planName} has no ${search.matrix ? 'matrix run' : 'run'} under ${pastablePath(base)} to continue.\n` +
        `Start one: ${search.freshCommand}`,
    );
  return join(base, newest);
}

/** The folder `--resume DIR|latest` names, checked to be the kind of run this plan makes. */
export function locateRun(resume: string, search: ResumeSearch): string {
  const runDir = resume === 'latest' ? newestRun(search) : resolve(expandHome(resume));
  if (!existsSync(runDir) || !statSync(runDir).isDirectory())
    throw new UserError(
      `--resume ${resume}: no such folder. Pass a run directory that evalrig printed, or latest.`,
    );
  const kind = kindOf(runDir);
  const shown = pastablePath(runDir);
  if (kind === undefined)
    throw new UserError(
      `--resume ${resume}: ${shown} is not a run directory of evalrig (it has neither ${MANIFEST_FILE} nor ${RESOLVED_PLAN_FILE}).`,
    );
  if (search.matrix && kind === 'run') {
    const parent = dirname(runDir);
    const hint =
      kindOf(parent) === 'matrix' ? ` To continue its matrix: --resume ${pastablePath(parent)}` : '';
    throw new UserError(
      `--resume ${resume}: ${shown} is a single run, but plan ${search.planName} has a matrix: resume the matrix's folder.${hint}`,
    );
  }
  if (!search.matrix && kind === 'matrix')
    throw new UserError(
      `--resume ${resume}: ${shown} is a matrix run, but plan ${search.planName} has no matrix: resume it with the plan that made it.`,
    );
  return runDir;
}
