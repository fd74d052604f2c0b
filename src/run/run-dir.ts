import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expandHome } from '../util/paths.js';

function timestamp(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}-${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

/** outputs/<plan name>/<YYYYMMDD-HHMMSS>[-N]/, never reusing an existing folder (no run overwrites another). */
export function createRunDir(
  outputDir: string,
  planName: string,
  now = new Date(),
): { runDir: string; runId: string } {
  const base = join(resolve(expandHome(outputDir)), planName);
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
