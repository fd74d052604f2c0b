import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { findLeftoverContainers } from '../../src/server/docker/leftovers.js';
import { startDockerServer } from '../../src/server/docker/start.js';
import { withEmptySlurmQueue } from '../e2e/cli-helpers.js';
import { CLI, DEMO_QUIZ, ROOT } from '../paths.js';
import { skipLoudlyOrFailInCi } from '../skip.js';
import {
  containersOfRun,
  dockerSuite,
  ensureSimImage,
  parseServer,
  SIM_IMAGE,
  simDockerServer,
  startContext,
} from './engine.js';

const suite = await dockerSuite('evalrig cleanup tests', 'cl');

/** `evalrig cleanup` also reads the Slurm queue: an empty stand-in keeps it off this machine's Slurm and its jobs. */
function cleanupCli(args: string[], env: Record<string, string> = {}) {
  return execa('node', [CLI, 'cleanup', ...args], { reject: false, env: withEmptySlurmQueue(env) });
}

/** Without DOCKER_HOST evalrig looks for the default socket; the test needs a machine where there is none. */
const defaultSocketExists =
  existsSync('/var/run/docker.sock') &&
  skipLoudlyOrFailInCi(
    'evalrig cleanup without an engine configured',
    '/var/run/docker.sock exists on this machine',
    'CI must have no engine on the default socket: .ci/run serves its engine on another socket.',
    'Run it on a machine whose engine listens elsewhere (DOCKER_HOST), as CI does.',
  );

/** Runs a child evalrig-like process that starts a container, then SIGKILLs it: the container is orphaned. */
async function orphanContainer(runId: string): Promise<string> {
  const child = execa(
    'node',
    ['--import', 'tsx', 'test/docker/fixtures/start-and-wait.ts', runId, SIM_IMAGE],
    {
      cwd: ROOT,
      reject: false,
    },
  );
  const name = await new Promise<string>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      const match = /STARTED (\S+)/.exec(chunk.toString());
      if (match?.[1]) resolve(match[1]);
    });
    void child.then((result) =>
      reject(new Error(`the fixture ended before starting a container:\n${String(result.stderr)}`)),
    );
  });
  child.kill('SIGKILL');
  await child;
  return name;
}

/** The smallest docker plan: two questions against the simulator image. */
function writeShortDockerPlan(): string {
  const dir = mkdtempSync(join(tmpdir(), 'evalrig-cleanup-plan-'));
  const plan = {
    name: 'cleanup-warning',
    server: simDockerServer({
      stop_timeout: 2,
      env: { VLLM_SIM_LOAD_TIME: '0.3', VLLM_SIM_TOKEN_LATENCY_MS: '0' },
    }),
    evals: [{ name: 'quiz', backend: 'native', dataset: 'iquiz', dataset_path: DEMO_QUIZ, limit: 1 }],
    output: { dir: join(dir, 'outputs') },
  };
  const file = join(dir, 'plan.yaml');
  writeFileSync(file, stringify(plan));
  return file;
}

describe.skipIf(suite.skip)('a crashed evalrig leaves a container; evalrig cleanup removes it', () => {
  const client = new Docker();

  beforeAll(ensureSimImage, 120_000);
  afterAll(() => suite.removeContainers());

  it('lists the orphan (dry run), removes it with --yes, and leaves live and foreign containers alone', async () => {
    const orphanRunId = suite.runId();
    const orphanName = await orphanContainer(orphanRunId);
    expect(await containersOfRun(orphanRunId)).toHaveLength(1);

    // A container this test process owns (it is alive), and one another host started on the same engine.
    const server = parseServer('owned', simDockerServer({ model: 'm', env: { VLLM_SIM_LOAD_TIME: '0.3' } }));
    const ownedRunId = suite.runId();
    const owned = await startDockerServer(server, startContext(ownedRunId));
    const foreignRunId = suite.runId();
    await client.createContainer({
      Image: SIM_IMAGE,
      Cmd: ['--model', 'm'],
      Labels: {
        'evalrig.managed': 'true',
        'evalrig.run-id': foreignRunId,
        'evalrig.owner-pid': '1',
        'evalrig.owner-host': 'another-host',
      },
    });

    try {
      const found = await findLeftoverContainers();
      const verdictOf = (runId: string) => found.find((l) => l.detail.includes(`run ${runId}`))?.verdict;
      expect(verdictOf(orphanRunId)).toBe('orphan');
      expect(verdictOf(ownedRunId)).toBe('owned');
      expect(verdictOf(foreignRunId)).toBe('foreign');

      const dryRun = await cleanupCli([]);
      expect(dryRun.exitCode).toBe(0);
      expect(dryRun.stdout).toContain(orphanName);
      expect(dryRun.stdout).toMatch(/Dry run: nothing was stopped or removed/);
      expect(dryRun.stdout).toMatch(/not ours to judge[\s\S]*another-host/);
      expect(await containersOfRun(orphanRunId)).toHaveLength(1);

      // `plan` warns at start when leftovers exist (a short docker plan; --dry-run starts nothing, so it skips the check).
      const plan = await execa('node', [CLI, 'plan', '--skip-preflight', writeShortDockerPlan()], {
        reject: false,
        all: true,
        env: { CI: '1' },
      });
      expect(plan.exitCode, plan.all).toBe(0);
      expect(plan.all).toMatch(new RegExp(`left by crashed evalrig runs \\([^)]*${orphanName}`));

      const removal = await cleanupCli(['--yes', '--grace', '1']);
      expect(removal.exitCode, removal.stdout + removal.stderr).toBe(0);
      expect(removal.stdout).toContain(`${orphanName}: stopped and removed`);
      expect(await containersOfRun(orphanRunId)).toEqual([]);
      expect(await containersOfRun(ownedRunId)).toHaveLength(1);
      expect(await containersOfRun(foreignRunId)).toHaveLength(1);
    } finally {
      await owned.stop({ graceMs: 2_000 });
    }
  });

  it.skipIf(defaultSocketExists)('with no engine configured there is nothing to clean (exit 0)', async () => {
    const result = await cleanupCli([], { DOCKER_HOST: '' });
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('nothing to clean');
  });

  it('an evalrig that exits without its teardown (an uncaught error) removes its container on the way out', async () => {
    const runId = suite.runId();
    const result = await execa(
      'node',
      ['--import', 'tsx', 'test/docker/fixtures/start-and-wait.ts', runId, SIM_IMAGE, 'exit'],
      { cwd: ROOT, reject: false },
    );
    expect(result.stdout).toMatch(/STARTED \S+/);
    expect(result.exitCode).toBe(3);
    expect(await containersOfRun(runId)).toEqual([]);
  });

  it('an engine that does not answer is named, with what to do (exit 1)', async () => {
    const result = await cleanupCli([], { DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(
      'warning: evalrig containers on unix:///nonexistent/docker.sock not searched: cannot reach the Docker engine',
    );
    // The other places are still searched.
    expect(result.stdout).toMatch(/leftover local vLLM processes/i);
  });
});
