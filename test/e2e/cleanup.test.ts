import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  groupAlive,
  readJson,
  startCli,
  startEmptyDockerEngine,
  waitFor,
  withEmptySlurmQueue,
  withUnreachableSlurm,
  writeSimPlan,
} from './cli-helpers.js';

/** Starts `evalrig plan` on the simulator and SIGKILLs it once vLLM is ready: the vLLM group is orphaned. */
async function orphanLocalServer(file: string, env: Record<string, string>): Promise<number> {
  const child = startCli(['plan', file, '--skip-preflight'], env);
  let output = '';
  child.all.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor(() => output.includes('ready at'), 30_000, 'readiness');
  const runDir = /run directory (\S+)/.exec(output)?.[1] ?? '';
  const pgid = readJson<{ server: { pid: number } }>(join(runDir, 'manifest.json')).server.pid;
  child.kill('SIGKILL');
  await child;
  return pgid;
}

describe('evalrig cleanup with places that do not answer', () => {
  it('still stops the orphaned local vLLM, warns about the Docker engine and the Slurm controller, and exits 1', async () => {
    const { file, dir } = writeSimPlan({
      eval: { concurrency: 1 },
      sim: { VLLM_SIM_TOKEN_LATENCY_MS: '20' },
    });
    const cache = { EVALRIG_CACHE: join(dir, 'cache') };
    const pgid = await orphanLocalServer(file, withEmptySlurmQueue(cache));
    expect(groupAlive(pgid)).toBe(true);

    const socket = join(dir, 'no-engine.sock');
    // A stand-in squeue that fails as the real one does with slurmctld down: the same on machines without Slurm.
    const env = withUnreachableSlurm({ ...cache, DOCKER_HOST: `unix://${socket}` });
    try {
      const listed = await startCli(['cleanup'], env);
      expect(listed.exitCode, listed.all).toBe(1);
      expect(listed.stdout).toContain(`process group ${pgid}:`);
      expect(listed.stdout).toContain('Dry run: nothing was stopped or removed');
      expect(groupAlive(pgid)).toBe(true);

      const cleaned = await startCli(['cleanup', '--yes', '--grace', '5'], env);
      expect(cleaned.exitCode, cleaned.all).toBe(1);
      expect(cleaned.stdout).toContain(`process group ${pgid}: stopped`);
      expect(groupAlive(pgid)).toBe(false);
      expect(cleaned.stderr).toContain(
        `warning: evalrig containers on unix://${socket} not searched: cannot reach the Docker engine at unix://${socket}`,
      );
      expect(cleaned.stderr).toMatch(/Start the engine|point DOCKER_HOST at a running one/);
      expect(cleaned.stderr).toMatch(
        /warning: evalrig jobs in the Slurm queue not searched: cannot read the Slurm queue \(.*Unable to contact slurm controller/,
      );
      expect(cleaned.stderr).toContain('scontrol ping');
      expect(cleaned.stderr).toMatch(/run `evalrig cleanup` again/);
    } finally {
      if (groupAlive(pgid)) process.kill(-pgid, 'SIGKILL');
    }
  });

  it('exits 0 once every place answers', async () => {
    const { dir } = writeSimPlan();
    const engine = await startEmptyDockerEngine(dir);
    try {
      const env = { EVALRIG_CACHE: join(dir, 'cache'), DOCKER_HOST: engine.host };
      const result = await startCli(['cleanup', '--yes'], withEmptySlurmQueue(env));
      expect(result.exitCode, result.all).toBe(0);
      expect(result.stdout).toContain('No leftover local vLLM processes.');
      expect(result.stdout).toContain(`No leftover evalrig containers on ${engine.host}.`);
      expect(result.stdout).toContain('No leftover evalrig jobs in the Slurm queue.');
      expect(result.stderr).not.toContain('warning:');
    } finally {
      await engine.close();
    }
  });
});
