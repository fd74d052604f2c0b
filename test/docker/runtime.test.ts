import { UserError } from '../../src/errors.js';
import { readFileSync } from 'node:fs';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerSpec } from '../../src/plan/schema.js';
import { connectDocker } from '../../src/server/docker/client.js';
import { startDockerServer, type DockerServerHandle } from '../../src/server/docker/start.js';
import { ReadinessError } from '../../src/server/readiness/readiness-error.js';
import { waitUntilReady } from '../../src/server/readiness/wait-until-ready.js';
import {
  containersOfRun,
  dockerSuite,
  ensureSimImage,
  parseServer,
  SERVED_AS_QWEN3,
  simDockerServer,
  startContext,
} from './engine.js';

const suite = await dockerSuite('Docker runtime tests', 'rt');

function simServer(
  options: {
    env?: Record<string, string>;
    docker?: Record<string, unknown>;
    server?: Record<string, unknown>;
  } = {},
): ServerSpec {
  return parseServer(
    'docker-runtime',
    simDockerServer(
      {
        ...SERVED_AS_QWEN3,
        stop_timeout: 5,
        ...options.server,
        env: { VLLM_SIM_LOAD_TIME: '0.3', ...options.env },
      },
      options.docker,
    ),
  );
}

describe.skipIf(suite.skip)('Docker runtime on a real engine', () => {
  const handles: DockerServerHandle[] = [];
  const start = async (server: ServerSpec, runId = suite.runId()) => {
    const handle = await startDockerServer(server, startContext(runId), { planName: 'docker-runtime' });
    handles.push(handle);
    return { handle, runId };
  };

  beforeAll(ensureSimImage, 120_000);

  afterAll(async () => {
    await Promise.all(handles.map((handle) => handle.stop({ graceMs: 0, immediate: true })));
    await suite.removeContainers();
  });

  it('an interruption during the start leaves no container and no pull behind', async () => {
    const runId = suite.runId();
    const interrupted = new AbortController();
    interrupted.abort(new Error('stopped by SIGINT'));
    const ctx = { ...startContext(runId), signal: interrupted.signal };
    // A pull (always) is cut before it begins; with the local image, the created container is removed again.
    await expect(
      startDockerServer(simServer({ docker: { pull: 'always' } }), ctx, { planName: 'docker-runtime' }),
    ).rejects.toThrow('stopped by SIGINT');
    await expect(startDockerServer(simServer(), ctx, { planName: 'docker-runtime' })).rejects.toThrow(
      'stopped by SIGINT',
    );
    expect(await containersOfRun(runId)).toEqual([]);
  });

  it('starts the simulator image, is ready through the port published on 127.0.0.1, and stops without a trace', async () => {
    const { handle, runId } = await start(
      simServer({
        server: { api_key: 'sk-docker-test-key' },
        docker: { env: { HF_TOKEN: 'hf_docker_secret' } },
      }),
    );
    expect(handle.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(handle.displayArgv.slice(0, 2)).toEqual(['docker', 'run']);
    expect(handle.displayArgv.join(' ')).not.toMatch(/sk-docker-test-key|hf_docker_secret/);

    const ready = await waitUntilReady(handle, { timeoutMs: 30_000 });
    expect(ready.servedModels).toEqual(['Qwen3-8B']);
    expect(ready.maxModelLen).toBe(8192);

    const inspect = await new Docker().getContainer(handle.containerId).inspect();
    expect(inspect.Config.Labels).toMatchObject({
      'evalrig.managed': 'true',
      'evalrig.run-id': runId,
      'evalrig.owner-pid': String(process.pid),
    });
    expect(inspect.HostConfig.IpcMode).toBe('host');

    const report = await handle.stop({ graceMs: 5_000 });
    expect(report).toMatchObject({ outcome: 'graceful', verified: true });
    expect(await handle.exited).toMatchObject({ code: 0, signal: null, oomKilled: false });
    expect(await containersOfRun(runId)).toEqual([]);
    // The second stop returns the same report and touches nothing.
    expect(await handle.stop({ graceMs: 5_000 })).toBe(report);
  });

  it('writes server.log with the secrets masked', async () => {
    const runId = suite.runId();
    const ctx = startContext(runId);
    const handle = await startDockerServer(simServer({ server: { api_key: 'sk-docker-test-key' } }), ctx);
    handles.push(handle);
    await waitUntilReady(handle, { timeoutMs: 30_000 });
    await handle.stop({ graceMs: 5_000 });
    const log = readFileSync(ctx.logFile, 'utf8');
    expect(log).toContain('Application startup complete.');
    // The key reaches vLLM as VLLM_API_KEY, so vLLM's "non-default args" line does not carry it at all.
    expect(log).toContain('non-default args');
    expect(log).not.toContain("'api_key'");
    expect(log).not.toContain('sk-docker-test-key');
  });

  it('a crash during load: exited gives exit code 1 and the tail holds the fatal line', async () => {
    const { handle, runId } = await start(simServer({ env: { VLLM_SIM_FAULT: 'crash_on_load:cuda_oom' } }));
    const failure = await waitUntilReady(handle, { timeoutMs: 30_000 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ReadinessError);
    expect((failure as ReadinessError).kind).toBe('exited');
    expect((failure as ReadinessError).message).toMatch(/exited with code 1[\s\S]*CUDA out of memory/);

    expect(await handle.exited).toMatchObject({ code: 1, signal: null, oomKilled: false });
    expect(
      handle.logTail(400).some((line) => line.includes('torch.OutOfMemoryError: CUDA out of memory')),
    ).toBe(true);
    const report = await handle.stop({ graceMs: 5_000 });
    expect(report).toMatchObject({ verified: true, detail: expect.stringContaining('already exited') });
    expect(await containersOfRun(runId)).toEqual([]);
  });

  it('a server that ignores SIGTERM is killed after the grace period, then removed', async () => {
    const { handle, runId } = await start(simServer({ env: { VLLM_SIM_FAULT: 'ignore_sigterm' } }));
    await waitUntilReady(handle, { timeoutMs: 30_000 });
    const report = await handle.stop({ graceMs: 1_000 });
    expect(report).toMatchObject({ outcome: 'killed', verified: true });
    expect(report.duration_ms).toBeGreaterThanOrEqual(900);
    expect(await handle.exited).toMatchObject({ code: null, signal: 'SIGKILL' });
    expect(await containersOfRun(runId)).toEqual([]);
  });

  it('a second, immediate stop during the graceful wait kills at once (a second Ctrl-C)', async () => {
    const { handle, runId } = await start(simServer({ env: { VLLM_SIM_FAULT: 'ignore_sigterm' } }));
    await waitUntilReady(handle, { timeoutMs: 30_000 });
    const started = Date.now();
    const graceful = handle.stop({ graceMs: 60_000 });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const immediate = handle.stop({ graceMs: 60_000, immediate: true });
    const [report, again] = await Promise.all([graceful, immediate]);
    expect(again).toBe(report);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(report).toMatchObject({
      outcome: 'killed',
      verified: true,
      detail: expect.stringContaining('second stop request'),
    });
    expect(await containersOfRun(runId)).toEqual([]);
  });

  it('stop({immediate}) kills at once', async () => {
    const { handle, runId } = await start(simServer({ env: { VLLM_SIM_LOAD_TIME: '30' } }));
    const report = await handle.stop({ graceMs: 30_000, immediate: true });
    expect(report).toMatchObject({ outcome: 'killed', verified: true });
    expect(report.duration_ms).toBeLessThan(10_000);
    expect(await containersOfRun(runId)).toEqual([]);
  });

  it('a fixed port is published as given', async () => {
    const port = 20_000 + (process.pid % 10_000);
    const { handle } = await start(simServer({ server: { port } }));
    expect(handle.baseUrl).toBe(`http://127.0.0.1:${port}`);
    await waitUntilReady(handle, { timeoutMs: 30_000 });
    await handle.stop({ graceMs: 5_000 });
  });

  it('a missing image with pull: never is a clear error, and no container is created', async () => {
    const runId = suite.runId();
    const failure = await startDockerServer(
      simServer({ docker: { image: 'evalrig/does-not-exist:nope', pull: 'never' } }),
      startContext(runId),
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UserError);
    expect((failure as Error).message).toContain('evalrig/does-not-exist:nope is not on this Docker engine');
    expect((failure as Error).message).toMatch(/docker load/);
    expect(await containersOfRun(runId)).toEqual([]);
  });

  it('a failed pull (no registry reachable here) is a clear error before anything starts', async () => {
    const runId = suite.runId();
    const failure = await startDockerServer(
      simServer({ docker: { image: 'evalrig/does-not-exist:nope', pull: 'always' } }),
      startContext(runId),
      { progressOutput: process.stderr },
    ).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UserError);
    const message = (failure as Error).message;
    expect(message).toContain('could not pull evalrig/does-not-exist:nope');
    // Offline (this engine) or denied (a machine with a registry): either way the advice says what to do.
    expect(message).toMatch(/docker load|docker login/);
    expect(await containersOfRun(runId)).toEqual([]);
  });

  it('an unreachable engine is named, with what to do', async () => {
    const failure = await connectDocker(new Docker({ socketPath: '/nonexistent/docker.sock' })).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(UserError);
    expect((failure as Error).message).toContain(
      'cannot reach the Docker engine at unix:///nonexistent/docker.sock',
    );
    expect((failure as Error).message).toContain('DOCKER_HOST');
  });
});
