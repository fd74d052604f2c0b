import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { runDirFrom } from '../e2e/cli-helpers.js';
import {
  cancelEvalrigJobs,
  jobIdOf,
  jobPids,
  jobState,
  predictionsOf,
  skipWithoutSlurm,
  startSlurmCli,
  slurmPlan,
  untilPredictions,
} from './cluster.js';

const skip = await skipWithoutSlurm('Slurm job failure tests');

describe.skipIf(skip)('runtime slurm: a job that fails', () => {
  afterAll(cancelEvalrigJobs);

  it('says which setup line failed the job, promptly, and leaves no job', async () => {
    const { file } = slurmPlan({ setup: ['echo "loading the environment"', 'exit 3'], startupTimeout: 120 });
    const started = Date.now();
    const result = await startSlurmCli(['plan', file]);
    const seconds = (Date.now() - started) / 1000;
    expect(result.exitCode, result.all).toBe(1);
    // Promptly: from the job's end, not after server.startup_timeout (120 s).
    expect(seconds).toBeLessThan(30);
    expect(result.all).toMatch(/Slurm job \d+ ended: FAILED \(exit code 3/);
    expect(result.all).toContain('server.slurm.setup');
    const runDir = runDirFrom(result.all);
    const jobId = jobIdOf(runDir);
    expect(result.all).toContain(`slurm-${jobId}.log`);
    expect(readFileSync(join(runDir, 'server.log'), 'utf8')).toContain('loading the environment');
    expect(await jobState(jobId)).toBe('FAILED');
  });

  it('says that the vLLM executable is missing on the node', async () => {
    const { file } = slurmPlan({ executable: '/nonexistent/venv/bin/vllm', startupTimeout: 120 });
    const result = await startSlurmCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toMatch(/FAILED \(exit code 127/);
    expect(result.all).toContain("set server.executable to vLLM's path on the node");
    // The job's own words, from its output.
    expect(result.all).toContain('/nonexistent/venv/bin/vllm');
    expect(await jobState(jobIdOf(runDirFrom(result.all)))).toBe('FAILED');
  });

  it('fails the run clearly when the job is cancelled from outside during the evaluation', async () => {
    const { file, outDir } = slurmPlan({ slow: true });
    const child = startSlurmCli(['plan', file]);
    const predictions = await untilPredictions(outDir, 2, child);
    const runDir = join(predictions, '../../..');
    const jobId = jobIdOf(runDir);
    await execa('scancel', [jobId]);
    const result = await child;
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toMatch(new RegExp(`Slurm job ${jobId} ended: CANCELLED .*cancelled from outside`));
    const answered = predictionsOf(predictions).filter((p) => !p.error);
    expect(answered.length).toBeGreaterThanOrEqual(2);
    expect(await jobState(jobId)).toBe('CANCELLED');
  });

  it('fails the run clearly when vLLM on its node stops answering, and still ends the job', async () => {
    const { file, outDir } = slurmPlan({
      slow: true,
      server: { health_interval: 1, unhealthy_after: 3, stop_timeout: 1 },
    });
    const child = startSlurmCli(['plan', file]);
    const predictions = await untilPredictions(outDir, 1, child);
    const jobId = jobIdOf(join(predictions, '../../..'));
    // As a node that no longer answers looks from the login node: the job runs on, its server is silent.
    const pids = await jobPids(jobId);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) process.kill(pid, 'SIGSTOP');
    const result = await child;
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toMatch(/vLLM stopped answering: http:\/\/\S+:\d+\/health has failed for \d+ s/);
    // Slurm's cancel wakes a stopped process (SIGCONT) before its SIGTERM.
    expect(['COMPLETED', 'CANCELLED']).toContain(await jobState(jobId));
  });
});
