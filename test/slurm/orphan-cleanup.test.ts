import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmptyDockerEngine } from '../e2e/cli-helpers.js';
import {
  cancelEvalrigJobs,
  jobIdOf,
  jobState,
  noProcessOf,
  skipWithoutSlurm,
  startSlurmCli,
  slurmPlan,
  untilPredictions,
} from './cluster.js';

const skip = await skipWithoutSlurm('Slurm orphan cleanup test');

describe.skipIf(skip)('runtime slurm: the job of a killed evalrig', () => {
  afterAll(cancelEvalrigJobs);

  it('is named at the next plan, listed and cancelled by evalrig cleanup', async () => {
    const { file, outDir, dir } = slurmPlan({ slow: true });
    const child = startSlurmCli(['plan', file]);
    const runDir = join(await untilPredictions(outDir, 1, child), '../../..');
    const jobId = jobIdOf(runDir);
    // SIGKILL: no teardown, no exit handler; only the job's comment says whose it was.
    child.kill('SIGKILL');
    await child;
    expect(await jobState(jobId)).toBe('RUNNING');
    expect(await noProcessOf(runDir)).toBe(false);
    const job = new RegExp(`Slurm job ${jobId}\\b`);

    // The next plan warns before it submits (this one's job fails at once, which is beside the point).
    const next = await startSlurmCli(['plan', slurmPlan({ setup: ['exit 3'] }).file]);
    expect(next.all).toMatch(/evalrig jobs in the Slurm queue left by crashed evalrig runs \(.*Slurm job/);
    expect(next.all).toMatch(job);

    // cleanup sweeps every runtime: an empty Docker engine keeps it off the real one, where the Docker tests,
    // running at the same time, keep orphans of their own.
    const engine = await startEmptyDockerEngine(dir);
    const env = { DOCKER_HOST: engine.host };
    try {
      const listed = await startSlurmCli(['cleanup'], env);
      expect(listed.exitCode, listed.all).toBe(0);
      expect(listed.all).toMatch(
        new RegExp(`Slurm job ${jobId}: RUNNING; plan e2e, run .*: owner pid ${child.pid} is gone`),
      );
      expect(await jobState(jobId)).toBe('RUNNING');

      const cleaned = await startSlurmCli(['cleanup', '--yes', '--grace', '5'], env);
      expect(cleaned.exitCode, cleaned.all).toBe(0);
      expect(cleaned.all).toMatch(new RegExp(`Slurm job ${jobId}: cancelled \\((COMPLETED|CANCELLED)\\)`));
      // The simulator exits on the SIGTERM of the cancel (COMPLETED); killed after the grace it reads CANCELLED.
      expect(['COMPLETED', 'CANCELLED']).toContain(await jobState(jobId));
      expect(await noProcessOf(runDir)).toBe(true);

      const again = await startSlurmCli(['cleanup'], env);
      expect(again.all).not.toMatch(job);
    } finally {
      await engine.close();
    }
  }, 90_000);
});
