// Which run folders of a plan a retention policy removes. Only folders named as evalrig names runs
// (`YYYYMMDD-HHMMSS`, `-N` for the N-th run in that second) directly under `<output>/<plan>/` are candidates;
// anything else there (BASELINE, a matrix summary, a folder a person made) is never touched.
import { existsSync, lstatSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';

/** The same pattern as RUN_ID_PATTERN in src/run/run-dir.ts. */
export const RUN_FOLDER_PATTERN = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})(?:-(\d+))?$/;

/** A file in `<output>/<plan>/` naming pinned run folders, one a line; the history feature pins through it. */
export const BASELINE_FILE = 'BASELINE';

const DAY_MS = 24 * 60 * 60 * 1000;

/** When the run began, from its folder name (local time, as evalrig writes it); undefined when not a real date. */
export function runFolderDate(name) {
  const match = RUN_FOLDER_PATTERN.exec(name);
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number);
  const date = new Date(year, month - 1, day, hour, minute, second);
  // new Date rolls 20250231 over into March: such a name is no timestamp evalrig wrote.
  const roundTrips =
    date.getFullYear() === year &&
    date.getMonth() === month - 1 &&
    date.getDate() === day &&
    date.getHours() === hour &&
    date.getMinutes() === minute &&
    date.getSeconds() === second;
  return roundTrips ? date : undefined;
}

/** The run folders directly under `planDir`, newest first; symbolic links and other entries are left out. */
export function listRunFolders(planDir) {
  if (!existsSync(planDir)) return [];
  const runs = [];
  for (const name of readdirSync(planDir)) {
    const date = runFolderDate(name);
    if (!date || !lstatSync(join(planDir, name)).isDirectory()) continue;
    runs.push({ name, date, attempt: Number(RUN_FOLDER_PATTERN.exec(name)[7] ?? 1) });
  }
  return runs.sort((a, b) => b.date.getTime() - a.date.getTime() || b.attempt - a.attempt);
}

/** Run folder names pinned by `<planDir>/BASELINE`: one a line, a path counts by its last part, `#` comments. */
export function pinnedRunFolders(planDir) {
  const file = join(planDir, BASELINE_FILE);
  if (!existsSync(file)) return new Set();
  return new Set(
    readFileSync(file, 'utf8')
      .split('\n')
      .map((line) => line.replace(/#.*/, '').trim())
      .filter(Boolean)
      .map((line) => basename(line)),
  );
}

/**
 * Splits a plan's run folders into kept and removed. A folder stays when any rule keeps it: among the newest
 * `keep`, younger than `keepDays` days, pinned, or named in `protect` (the run this nightly just made). Without
 * `keep` and `keepDays` every folder stays.
 */
export function applyRetention(planDir, { keep, keepDays, protect = [], now = new Date() }) {
  const runs = listRunFolders(planDir);
  const pinned = pinnedRunFolders(planDir);
  const kept = [];
  const removed = [];
  runs.forEach((run, index) => {
    const stays =
      (keep === undefined && keepDays === undefined) ||
      (keep !== undefined && index < keep) ||
      (keepDays !== undefined && now.getTime() - run.date.getTime() < keepDays * DAY_MS) ||
      pinned.has(run.name) ||
      protect.includes(run.name);
    (stays ? kept : removed).push(run.name);
  });
  return { kept, removed, pinned: runs.filter((run) => pinned.has(run.name)).map((run) => run.name) };
}

/** Deletes one run folder, checking again that it is a real folder with a run's name right under `planDir`. */
export function removeRunFolder(planDir, name) {
  const path = join(planDir, name);
  if (!RUN_FOLDER_PATTERN.test(name) || !lstatSync(path).isDirectory())
    throw new Error(`refusing to remove ${path}: not a run folder`);
  rmSync(path, { recursive: true });
}
