import { isAbsolute, resolve } from 'node:path';

/** A command name is looked up on PATH; anything with a slash is a path relative to the plan file. */
export function resolveExecutable(executable: string, planDir: string): string {
  return executable.includes('/') && !isAbsolute(executable) ? resolve(planDir, executable) : executable;
}
