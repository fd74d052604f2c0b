import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { LoadedPlan } from '../plan/load.js';
import { maskPlan } from '../plan/secrets.js';
import { expandHome } from '../util/paths.js';

/** The files of a run directory that a resume reads back. */
export const RESOLVED_PLAN_FILE = 'plan.resolved.yaml';
export const MANIFEST_FILE = 'manifest.json';
export const SUMMARY_FILE = 'summary.json';

/** A run directory's name: `YYYYMMDD-HHMMSS`, `-N` for the N-th run within that second. */
export const RUN_ID_PATTERN = /^(\d{8}-\d{6})(?:-(\d+))?$/;

function timestamp(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

/** outputs/<plan name>/: where every run of a plan gets its folder. */
export function planRunsDir(outputDir: string, planName: string): string {
  return join(resolve(expandHome(outputDir)), planName);
}

/** outputs/<plan name>/<YYYYMMDD-HHMMSS>[-N]/, never reusing an existing folder (no run overwrites another). */
export function createRunDir(
  outputDir: string,
  planName: string,
  now = new Date(),
): { runDir: string; runId: string } {
  const base = planRunsDir(outputDir, planName);
  mkdirSync(base, { recursive: true });
  const stamp = timestamp(now);
  for (let attempt = 1; ; attempt++) {
    const runId = attempt === 1 ? stamp : `${stamp}-${attempt}`;
    const runDir = join(base, runId);
    try {
      // Not recursive: EEXIST tells us another run (in this second) took the name, atomically.
      mkdirSync(runDir);
      return { runDir, runId };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
}

/** evals/<name>/ of a run: its predictions.jsonl and result.json. */
export function evalDirOf(runDir: string, evalName: string): string {
  return join(runDir, 'evals', evalName);
}

/** plan.resolved.yaml: the plan as it ran, masked by key so that the YAML keeps its structure and types. */
export function writeResolvedPlan(runDir: string, loaded: Pick<LoadedPlan, 'plan' | 'secrets'>): void {
  writeFileSync(join(runDir, RESOLVED_PLAN_FILE), stringify(maskPlan(loaded.plan, loaded.secrets)));
}
