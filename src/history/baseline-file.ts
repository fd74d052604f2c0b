import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';

/**
 * `<output>/<plan>/BASELINE`: the pinned run folders of a plan, one a line, so that the nightly pruning keeps them
 * and a history rebuilt by `evalrig history import` pins them again. A line is the run folder's name under
 * `<output>/<plan>/`; a matrix cell's pin names the matrix's folder and the cell in a comment
 * (`20261201-101500  # cell small`), since the pruning reads a line's last path part, without comments.
 */
export const BASELINE_FILE = 'BASELINE';

export interface BaselinePin {
  cell: string;
  /** The run folder, absolute. */
  run_dir: string;
}

const HEADER = '# Run folders pinned by `evalrig history baseline`; the nightly pruning keeps them.';

/** The folder name under `<output>/<plan>/` that holds a run: a matrix cell lives inside its matrix's folder. */
export function topRunFolder(runDir: string, cell: string): string {
  return basename(cell ? dirname(runDir) : runDir);
}

export function writeBaselineFile(planDir: string, pins: readonly BaselinePin[]): void {
  const file = join(planDir, BASELINE_FILE);
  if (pins.length === 0) {
    rmSync(file, { force: true });
    return;
  }
  const lines = pins.map(({ cell, run_dir }) => {
    const folder = topRunFolder(run_dir, cell);
    return cell ? `${folder}  # cell ${cell}` : folder;
  });
  mkdirSync(planDir, { recursive: true });
  writeFileAtomic(file, [HEADER, ...lines].join('\n') + '\n');
}

/** Whether `<planDir>/BASELINE` pins this run folder for this cell. */
export function pinnedInFile(planDir: string, runDir: string, cell: string): boolean {
  const file = join(planDir, BASELINE_FILE);
  if (!existsSync(file)) return false;
  const folder = topRunFolder(runDir, cell);
  return readFileSync(file, 'utf8')
    .split('\n')
    .some((line) => {
      const match = /^\s*([^#\s]+)\s*(?:#\s*cell\s+(\S+))?/.exec(line);
      return match?.[1] !== undefined && basename(match[1]) === folder && (match[2] ?? '') === cell;
    });
}
