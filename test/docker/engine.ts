import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { execa } from 'execa';
import { PlanSchema, type ServerSpec } from '../../src/plan/schema.js';
import { engineAddress } from '../../src/server/docker/engine.js';
import { listEvalrigContainers } from '../../src/server/docker/leftovers.js';
import type { StartContext } from '../../src/server/runtime.js';
import { ROOT } from '../paths.js';
import { skipLoudlyOrFailInCi } from '../skip.js';

/**
 * Shared set-up of the tests that need a real Docker engine. Where none answers, they skip with a loud banner
 * (a laptop without Docker); in CI (CI set) they fail instead, never skip: .ci/run starts an engine.
 */

export const SIM_IMAGE = 'evalrig/vllm-sim:test';

/** Pings the engine DOCKER_HOST names (or the default socket); the reason when it does not answer. */
export async function probeEngine(): Promise<{ available: boolean; reason: string }> {
  try {
    await new Docker().ping();
    return { available: true, reason: '' };
  } catch (error) {
    return { available: false, reason: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * True when the Docker tests must be skipped. Throws in CI, so a missing engine fails the run loudly.
 * Call at the top of each Docker test file: `const skip = await skipWithoutEngine('…');`, or use dockerSuite.
 */
export async function skipWithoutEngine(suite: string): Promise<boolean> {
  const engine = await probeEngine();
  if (engine.available) return false;
  return skipLoudlyOrFailInCi(
    suite,
    `no Docker engine answers at ${engineAddress()} (${engine.reason})`,
    'CI must run these tests: .ci/run starts one with .ci/docker-engine.sh.',
    'Start one with `bash .ci/docker-engine.sh start` and export DOCKER_HOST=unix:///tmp/evalrig-ci-docker/docker.sock',
  );
}

/** One Docker test file's set-up: whether it skips, and the run ids of the containers it starts. */
export interface DockerSuite {
  /** True where no engine answers outside CI (see skipWithoutEngine): `describe.skipIf(suite.skip)`. */
  skip: boolean;
  /** A fresh run id of this file (see testRunId). */
  runId(): string;
  /** Removes every container of this file's runs, running or not (afterAll: nothing may remain). */
  removeContainers(): Promise<void>;
}

/**
 * Call at the top of a Docker test file that starts containers: `const suite = await dockerSuite('…', 'xy');`.
 * Its run ids start with `<tag>-<pid>`, so its cleanup never touches another file's containers.
 */
export async function dockerSuite(name: string, tag: string): Promise<DockerSuite> {
  const prefix = `${tag}-${process.pid}`;
  return {
    skip: await skipWithoutEngine(name),
    runId: () => testRunId(prefix),
    removeContainers: () => removeContainersOf(prefix),
  };
}

/**
 * A plan's server section that runs the simulator image on this engine, with overrides. The engine has no GPU,
 * and the caches of the test machine stay out of the container.
 */
export function simDockerServer(
  server: Record<string, unknown> = {},
  docker: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    runtime: 'docker',
    model: 'Qwen/Qwen3-8B',
    ...server,
    docker: { image: SIM_IMAGE, pull: 'never', gpus: 'none', mount_caches: false, ...docker },
  };
}

/** Server settings under which the simulator passes for the tutorial's Qwen3-8B. */
export const SERVED_AS_QWEN3 = {
  served_model_name: 'Qwen3-8B',
  max_model_len: 8192,
  reasoning_parser: 'qwen3',
} as const;

/** The server as the runtime gets it, from a plan around this server section. */
export function parseServer(name: string, server: Record<string, unknown>): ServerSpec {
  return PlanSchema.parse({
    name,
    server,
    evals: [{ name: 'e', backend: 'native', dataset: 'iquiz', dataset_path: 'd' }],
  }).server;
}

/** Builds the simulator image once (the script skips when the content hash is unchanged). */
export async function ensureSimImage(): Promise<void> {
  await execa('node', [join(ROOT, 'scripts/build-sim-image.mjs'), '--tag', SIM_IMAGE], { cwd: ROOT });
}

/** A unique run id for this test file, so its cleanup never touches another file's containers. */
export function testRunId(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

/** A StartContext with its run directory in a fresh temp folder. */
export function startContext(runId: string, planDir = ROOT): StartContext {
  const runDir = mkdtempSync(join(tmpdir(), `evalrig-docker-${runId}-`));
  return { runId, runDir, logFile: join(runDir, 'server.log'), planDir, maskLine: (line) => line };
}

/** Removes every evalrig container whose run id starts with `prefix` (afterAll: nothing may remain). */
export async function removeContainersOf(prefix: string): Promise<void> {
  const client = new Docker();
  const leftovers = (await listEvalrigContainers(client)).filter((container) =>
    container.runId.startsWith(prefix),
  );
  await Promise.all(
    leftovers.map((container) => client.getContainer(container.id).remove({ force: true, v: true })),
  );
}

/** True when the engine no longer knows the container (inspect answers 404). */
export async function containerGone(id: string): Promise<boolean> {
  try {
    await new Docker().getContainer(id).inspect();
    return false;
  } catch (error) {
    return (error as { statusCode?: number }).statusCode === 404;
  }
}

/** Containers carrying this run id, running or not. */
export async function containersOfRun(runId: string): Promise<string[]> {
  const summaries = await new Docker().listContainers({
    all: true,
    filters: { label: [`evalrig.run-id=${runId}`] },
  });
  return summaries.map((summary) => summary.Id);
}
