/**
 * A test that cannot run on this machine skips with a loud banner (a laptop without Docker or Slurm), never
 * silently; in CI (CI set) it fails instead, since CI is set up to run every test.
 * Returns true (skip) or throws; call it only when the test cannot run.
 */
export function skipLoudlyOrFailInCi(suite: string, why: string, ciHint: string, localHint: string): true {
  if (process.env.CI) throw new Error(`${suite}: ${why}. ${ciHint}`);
  const line = '!'.repeat(100);
  console.warn([line, `!! SKIPPING ${suite}: ${why}.`, `!! ${localHint}`, line].join('\n'));
  return true;
}
