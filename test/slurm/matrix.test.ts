import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import type { MatrixSummary } from '../../src/run/summary.js';
import { readJson, startCli } from '../e2e/cli-helpers.js';
import { jobIdOf, jobState, noProcessOf, skipWithoutSlurm, slurmPlan } from './cluster.js';

const skip = await skipWithoutSlurm('Slurm matrix tests');

/** The variant folders of the matrix runs under `outDir` that have submitted their job, by variant name. */
function submittedCells(outDir: string): Map<string, string> {
  const cells = new Map<string, string>();
  const planDir = join(outDir, 'e2e');
  if (!existsSync(planDir)) return cells;
  for (const run of readdirSync(planDir)) {
    for (const name of ['a', 'b']) {
      const dir = join(planDir, run, name);
      if (existsSync(dir) && readdirSync(dir).some((file) => /^slurm-\d+\.log$/.test(file)))
        cells.set(name, dir);
    }
  }
  return cells;
}

/** Each job's state now, as squeue reports it, ended jobs included. */
async function statesOf(jobIds: string[]): Promise<Map<string, string>> {
  const { stdout } = await execa('squeue', ['-h', '-t', 'all', '-j', jobIds.join(','), '-o', '%i %T'], {
    reject: false,
  });
  return new Map(
    stdout.split('\n').flatMap((line) => (line.trim() ? [line.trim().split(/\s+/) as [string, string]] : [])),
  );
}

/** Only the jobs this file submitted are cancelled: other suites may have theirs in the same queue. */
const submitted = new Set<string>();

describe.skipIf(skip)('a parallel matrix on a real Slurm cluster', () => {
  afterAll(async () => {
    if (submitted.size > 0) await execa('scancel', [...submitted], { reject: false });
  });

  it('submits one job per variant, runs both at once, evaluates each, and leaves no job behind', async () => {
    // A longer load keeps both servers up long enough for the queue to be seen with both jobs running.
    const { file, outDir } = slurmPlan({ sim: { VLLM_SIM_LOAD_TIME: '3' } });
    writeFileSync(
      file,
      readFileSync(file, 'utf8') +
        [
          'matrix:',
          '  max_parallel: 2',
          '  variants:',
          '    - name: a',
          '      set: { server.seed: 1 }',
          '    - name: b',
          '      set: { server.seed: 2 }',
          '',
        ].join('\n'),
    );
    const child = startCli(['plan', file]);
    let ended = false;
    void child.then(() => (ended = true));
    let bothRunning = false;
    while (!ended) {
      const jobs = [...submittedCells(outDir).values()].map(jobIdOf);
      jobs.forEach((id) => submitted.add(id));
      if (jobs.length === 2) {
        const states = await statesOf(jobs);
        bothRunning ||= jobs.every((id) => states.get(id) === 'RUNNING');
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const result = await child;
    expect(result.exitCode, result.all).toBe(0);
    expect(bothRunning, 'both jobs were RUNNING at the same moment').toBe(true);

    const cells = submittedCells(outDir);
    const matrixDir = join(cells.get('a')!, '..');
    const summary = readJson<MatrixSummary>(join(matrixDir, 'summary.json'));
    expect(summary).toMatchObject({ status: 'ok', max_parallel: 2, failed: [], not_started: [] });
    for (const { name, summary: cell } of summary.variants) {
      expect(cell.status, name).toBe('ok');
      expect(cell.evals.map((e) => [e.name, e.status])).toEqual([['quiz', 'ok']]);
    }
    const jobs = ['a', 'b'].map((name) => jobIdOf(cells.get(name)!));
    expect(new Set(jobs).size).toBe(2);
    // vLLM exits on the SIGTERM evalrig sends first (COMPLETED); SIGKILL after the grace would read CANCELLED.
    for (const id of jobs) expect(['COMPLETED', 'CANCELLED']).toContain(await jobState(id));
    const { stdout: live } = await execa('squeue', ['-h', '-j', jobs.join(','), '-o', '%i %T'], {
      reject: false,
    });
    expect(live.trim()).toBe('');
    for (const dir of cells.values()) expect(await noProcessOf(dir)).toBe(true);
  });
});
