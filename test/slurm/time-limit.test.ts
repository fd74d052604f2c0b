import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { readJson } from '../e2e/cli-helpers.js';
import {
  cancelEvalrigJobs,
  jobIdOf,
  jobState,
  predictionsOf,
  skipWithoutSlurm,
  startSlurmCli,
  slurmPlan,
  untilPredictions,
} from './cluster.js';

const skip = await skipWithoutSlurm('Slurm time-limit test');

/** The simulator at full speed, for the attempt that finishes the run. */
function speedUp(planFile: string): void {
  const plan = parse(readFileSync(planFile, 'utf8')) as {
    server: { env: Record<string, string> };
    evals: { concurrency: number }[];
  };
  plan.server.env.VLLM_SIM_TTFT_MS = '5';
  plan.server.env.VLLM_SIM_TOKEN_LATENCY_MS = '0';
  plan.evals[0]!.concurrency = 8;
  writeFileSync(planFile, stringify(plan));
}

describe.skipIf(skip)('runtime slurm: the time limit', () => {
  afterAll(cancelEvalrigJobs);

  it("reports Slurm's TIMEOUT mid-evaluation, keeps the answered samples, and the run resumes", async () => {
    const { file, outDir } = slurmPlan({ slow: true });
    const child = startSlurmCli(['plan', file]);
    const predictions = await untilPredictions(outDir, 2, child);
    const runDir = join(predictions, '../../..');
    const jobId = jobIdOf(runDir);
    // Slurm's shortest limit is a minute; ending the job's time now has its limit checker (every 30 s) end it.
    await execa('scontrol', ['update', `JobId=${jobId}`, 'EndTime=now']);
    const result = await child;
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toMatch(
      new RegExp(`Slurm job ${jobId} ended: TIMEOUT .*time limit \\(server.slurm.time: 10\\): raise`),
    );
    expect(await jobState(jobId)).toBe('TIMEOUT');
    const answered = predictionsOf(predictions).filter((p) => !p.error);
    expect(answered.length).toBeGreaterThanOrEqual(2);
    expect(answered.length).toBeLessThan(40);
    const summary = readJson<{ resume_command: string | null }>(join(runDir, 'summary.json'));
    expect(summary.resume_command).toContain('--resume');

    speedUp(file);
    const resumed = await startSlurmCli(['plan', file, '--resume', runDir]);
    expect(resumed.exitCode, resumed.all).toBe(0);
    const finished = new Set(
      predictionsOf(predictions)
        .filter((p) => !p.error)
        .map((p) => p.id),
    );
    expect(finished.size).toBe(40);
    // The samples answered before the time limit were not asked again.
    const asked = predictionsOf(predictions).filter((p) => answered.some((a) => a.id === p.id) && !p.error);
    expect(asked).toHaveLength(answered.length);
  }, 120_000);
});
