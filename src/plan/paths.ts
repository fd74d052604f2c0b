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
