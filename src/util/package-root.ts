import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cachedRoot: string | undefined;

/** The evalrig package root, found the same way from `src/` (tests), `dist/src/` and the bundle in `dist/cli/`. */
export function packageRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('evalrig: cannot find its own package.json');
    dir = parent;
  }
  cachedRoot = dir;
  return dir;
}
