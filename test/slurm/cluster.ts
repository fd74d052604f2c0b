import { execa } from 'execa';

/**
 * Shared set-up of the tests that need a real Slurm cluster. Where none answers, they skip with a loud banner; in
 * CI (CI set) they fail instead, never skip: .ci/run starts a one-node cluster with .ci/slurm.sh.
 */
export async function skipWithoutSlurm(suite: string): Promise<boolean> {
  const result = await execa('sinfo', ['-h', '-o', '%T'], { reject: false, timeout: 10_000 });
  const idle = result.exitCode === 0 && /idle|mix/.test(result.stdout);
  if (idle) return false;
  const reason =
    result.exitCode === 0
      ? `no idle node (${result.stdout.trim()})`
      : (result.stderr || (result.message ?? '')).trim();
  const message = `no Slurm cluster answers (${reason})`;
  if (process.env.CI) {
    throw new Error(`${suite}: ${message}. CI must run these tests: .ci/run starts one with .ci/slurm.sh.`);
  }
  const line = '!'.repeat(100);
  console.warn(
    [
      line,
      `!! SKIPPING ${suite}: ${message}.`,
      '!! Start one with `bash .ci/slurm.sh start` (root).',
      line,
    ].join('\n'),
  );
  return true;
}

/** The job's state as squeue reports it, ended jobs included; empty once Slurm forgot it. */
export async function jobState(jobId: string): Promise<string> {
  const result = await execa('squeue', ['-h', '-t', 'all', '-j', jobId, '-o', '%T'], { reject: false });
  return result.stdout.trim();
}

/** Cancels every job of the current user whose name starts with `evalrig-` (afterAll: nothing may remain). */
export async function cancelEvalrigJobs(): Promise<void> {
  const result = await execa('squeue', ['--me', '-h', '-o', '%i|%j'], { reject: false });
  const ids = result.stdout
    .split('\n')
    .map((line) => line.split('|'))
    .filter(([, name]) => name?.startsWith('evalrig-'))
    .map(([id]) => id!);
  if (ids.length > 0) await execa('scancel', ids, { reject: false });
}
