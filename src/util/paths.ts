import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * `~` and `~/…` as a shell would expand them: the home folder. Plan values reach vLLM and the file system without
 * a shell, so nothing else would. Any other path, `~user/…` included, is returned as it is.
 */
export function expandHome(path: string, home: string = homedir()): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}

/** evalrig's cache: downloaded datasets and the records of running servers. `EVALRIG_CACHE` moves it. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const chosen = env['EVALRIG_CACHE']?.trim();
  return chosen ? expandHome(chosen) : join(homedir(), '.cache', 'evalrig');
}
