import { spawnSync } from 'node:child_process';
import { skipLoudlyOrFailInCi } from '../../skip.js';

/**
 * Whether a test that needs a program this machine may lack (xmllint, Chromium) must skip. Without it, the test
 * skips with a loud banner (a laptop); with CI set it fails instead, since .ci/run installs the program.
 */
export function skipWithout(
  found: string | null,
  suite: string,
  { program, install }: { program: string; install: string },
): boolean {
  if (found !== null) return false;
  return skipLoudlyOrFailInCi(
    suite,
    `no ${program} on this machine`,
    `CI must run these tests: .ci/run installs it (${install}).`,
    `Install it with \`${install}\`.`,
  );
}

/** The first of `names` found on PATH, as an absolute path; null when none is. */
export function findProgram(...names: string[]): string | null {
  for (const name of names) {
    const found = spawnSync('sh', ['-c', `command -v "$0"`, name], { encoding: 'utf8' });
    if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  }
  return null;
}
