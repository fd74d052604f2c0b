import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readJson, runDirFrom, writeSimPlan } from '../e2e/cli-helpers.js';
import {
  cancelEvalrigJobs,
  jobIdOf,
  jobState,
  noProcessOf,
  skipWithoutSlurm,
  slurmPlan,
  startSlurmCli,
  untilPredictions,
} from './cluster.js';

const skip = await skipWithoutSlurm('Slurm runtime tests');

describe.skipIf(skip)('runtime slurm on a real cluster', () => {
  afterAll(cancelEvalrigJobs);

  it('runs a plan from submission to report, and the job has ended after it', async () => {
    const { file } = slurmPlan();
    const result = await startSlurmCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(0);
    const runDir = runDirFrom(result.all);
    const summary = readJson<{ evals: { name: string; samples: number }[] }>(join(runDir, 'summary.json'));
    expect(summary.evals[0]?.name).toBe('quiz');
    expect(readFileSync(join(runDir, 'report.md'), 'utf8')).toContain('quiz');
    const script = readFileSync(join(runDir, 'slurm-job.sh'), 'utf8');
    expect(script).toMatch(/^exec .*vllm' serve|^exec .*vllm serve/m);
    expect(script).not.toContain('sk-slurm-test-secret');
    expect(readFileSync(join(runDir, 'server.log'), 'utf8')).not.toContain('sk-slurm-test-secret');
    // vLLM exits on the SIGTERM evalrig sends first (COMPLETED); SIGKILL after the grace would read CANCELLED.
    expect(['COMPLETED', 'CANCELLED']).toContain(await jobState(jobIdOf(runDir)));
  });

  it('cancels the job on SIGINT during the evaluation and leaves no process', async () => {
    // Slow answers, one at a time: the evaluation is under way, and far from over, at the first answer.
    const { file, outDir } = slurmPlan({ slow: true });
    const child = startSlurmCli(['plan', file]);
    await untilPredictions(outDir, 1, child);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, result.all).toBe(130);
    const runDir = runDirFrom(result.all);
    // vLLM exits on the SIGTERM evalrig sends first (COMPLETED); SIGKILL after the grace would read CANCELLED.
    expect(['COMPLETED', 'CANCELLED']).toContain(await jobState(jobIdOf(runDir)));
    expect(await noProcessOf(runDir)).toBe(true);
  });

  it("reports Slurm's own words when the cluster has no GPU to give", async () => {
    const { file } = writeSimPlan({ server: { runtime: 'slurm', slurm: { gpus: 1, queue_timeout: 30 } } });
    const result = await startSlurmCli(['plan', file]);
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toMatch(/Slurm refused the job: .*Requested node configuration is not available/);
  });
});
