import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  freePort,
  isPortOpen,
  killAllSims,
  processTitle,
  runSim,
  sleep,
  startReadySim,
  startSim,
} from './helpers.js';
import { waitFor } from '../e2e/cli-helpers.js';

afterEach(killAllSims);

/**
 * A `GET /v1/models` body in vLLM 0.8.5's shape (`ModelList` of `ModelCard`s with one `ModelPermission`, from
 * `vllm/entrypoints/openai/protocol.py`): keys, order, nesting and value types as vLLM sends them, our own values.
 */
const MODELS_FIXTURE = JSON.parse(
  readFileSync(new URL('../fixtures/vllm/v1-models.v0.8.5.json', import.meta.url), 'utf8'),
) as {
  data: Array<Record<string, unknown> & { permission: Array<Record<string, unknown>> }>;
};

/** Keys in order with the JSON type of each value, recursively: what two bodies of the same shape share. */
function shapeOf(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shapeOf);
  if (value !== null && typeof value === 'object')
    return Object.entries(value).map(([key, inner]) => [key, shapeOf(inner)]);
  return value === null ? 'null' : typeof value;
}

/** The tutorial's `vllm serve` command line for Qwen3-8B. */
function doneWhenArgs(port: number): string[] {
  return [
    'serve',
    '/models/Qwen3-8B',
    '--served-model-name',
    'Qwen3-8B',
    '--max_model_len',
    '8192',
    '--enable-reasoning',
    '--reasoning-parser',
    'deepseek_r1',
    '--port',
    String(port),
  ];
}

describe('start-up and shutdown', () => {
  it('0.8.5: refuses connections while loading, then serves /health and the 0.8.5 /v1/models shape', async () => {
    const port = await freePort();
    const sim = await startSim({
      argv: doneWhenArgs(port),
      port,
      env: { VLLM_SIM_VERSION: '0.8.5', VLLM_SIM_LOAD_TIME: '1' },
    });
    // The banner comes at once; the port may not open before VLLM_SIM_LOAD_TIME (1 s) has passed.
    await sim.waitForOutput(/vLLM API server version 0\.8\.5/);
    expect(await isPortOpen(port)).toBe(false);
    await sim.waitForOutput(/Initializing a V1 LLM engine \(v0\.8\.5\)/);
    await sim.waitReady();

    const health = await fetch(`${sim.baseUrl}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('');

    const models = (await (await fetch(`${sim.baseUrl}/v1/models`)).json()) as typeof MODELS_FIXTURE;
    const card = models.data[0];
    expect(shapeOf(models)).toEqual(shapeOf(MODELS_FIXTURE));
    expect(card).toMatchObject({
      id: 'Qwen3-8B',
      object: 'model',
      owned_by: 'vllm',
      root: '/models/Qwen3-8B',
      parent: null,
      max_model_len: 8192,
    });
    expect(card?.permission[0]?.id).toMatch(/^modelperm-[0-9a-f]{32}$/);
    expect(await (await fetch(`${sim.baseUrl}/version`)).json()).toEqual({ version: '0.8.5' });

    // 0.8.5 logs have no process prefixes; uvicorn's lines are on stderr.
    expect(sim.stdout()).toMatch(
      /^INFO \d\d-\d\d \d\d:\d\d:\d\d \[api_server\.py:\d+\] vLLM API server version 0\.8\.5$/m,
    );
    expect(sim.stdout()).toMatch(/^INFO .* \[launcher\.py:\d+\] Route: \/health, Methods: GET$/m);
    expect(sim.stderr()).toContain('INFO:     Started server process [');
    expect(sim.stderr()).toContain('INFO:     Application startup complete.');
  });

  it('0.17.1: the same command line fails on --enable-reasoning', async () => {
    const r = await runSim(doneWhenArgs(await freePort()), { VLLM_SIM_VERSION: '0.17.1' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('vllm: error: unrecognized arguments: --enable-reasoning');
  });

  it('0.17.1: prefixes every line with the process name and pid; EngineCore is a titled child', async () => {
    const sim = await startReadySim({ args: ['--max-model-len', '8192'] });
    const out = sim.output();
    expect(out).toMatch(
      new RegExp(`^\\(APIServer pid=${sim.pid}\\) INFO .* vLLM API server version 0\\.17\\.1$`, 'm'),
    );
    expect(out).toMatch(
      new RegExp(`^\\(APIServer pid=${sim.pid}\\) INFO:     Application startup complete\\.$`, 'm'),
    );
    const engine = /^\(EngineCore_DP0 pid=(\d+)\) INFO .*GPU KV cache size: [\d,]+ tokens$/m.exec(out);
    expect(engine).not.toBeNull();
    const enginePid = Number(engine?.[1]);
    expect(out).toMatch(/Maximum concurrency for 8,192 tokens per request: [\d.]+x/);
    expect(processTitle(enginePid)).toBe('VLLM::EngineCore');
    expect(sim.groupPids().sort()).toEqual([sim.pid, enginePid].sort());
  });

  it('SIGTERM to the group takes the server and EngineCore down, exit 0', async () => {
    const sim = await startReadySim();
    expect(sim.groupPids()).toHaveLength(2);
    sim.killGroup('SIGTERM');
    expect(await sim.exited).toEqual({ code: 0, signal: null });
    await waitFor(() => sim.groupPids().length === 0, 10_000, 'the process group to empty');
    expect(sim.stdout()).toMatch(/\[launcher\.py:\d+\] Shutting down FastAPI HTTP server\.$/m);
    expect(sim.stderr()).toMatch(
      /INFO: {5}Shutting down\n.*INFO: {5}Waiting for application shutdown\.\n.*INFO: {5}Application shutdown complete\./,
    );
  });

  it('SIGKILL of the server leaves the VLLM::EngineCore child running (orphaned, as vLLM)', async () => {
    const sim = await startReadySim();
    const [enginePid] = sim.groupPids().filter((p) => p !== sim.pid);
    expect(enginePid).toBeDefined();
    process.kill(sim.pid, 'SIGKILL');
    await sim.exited;
    await sleep(300);
    expect(sim.groupPids()).toEqual([enginePid]);
    expect(processTitle(enginePid ?? 0)).toBe('VLLM::EngineCore');
    expect(await isPortOpen(sim.port)).toBe(false);
  });

  it('SIGTERM during the load ends with KeyboardInterrupt and death by SIGINT', async () => {
    const sim = await startSim({ env: { VLLM_SIM_LOAD_TIME: '5' } });
    await sim.waitForOutput(/Starting to load model/);
    sim.killGroup('SIGTERM');
    expect(await sim.exited).toEqual({ code: null, signal: 'SIGINT' });
    expect(sim.stderr()).toMatch(/KeyboardInterrupt: terminated\n$/);
    await waitFor(() => sim.groupPids().length === 0, 10_000, 'the process group to empty');
  });

  it('fails like vLLM when the port is taken', async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
    try {
      const sim = await startSim({ port });
      expect((await sim.exited).code).toBe(1);
      expect(sim.stderr()).toMatch(/OSError: \[Errno 98\] Address already in use\n$/);
      expect(sim.stdout()).not.toContain('Initializing a V1 LLM engine');
    } finally {
      blocker.close();
    }
  });

  it('spawns titled tensor-parallel workers', async () => {
    const sim = await startReadySim({ args: ['-tp', '2'] });
    const titles = sim.groupPids().map(processTitle).sort();
    expect(titles).toEqual(
      [
        'VLLM::EngineCore',
        'VLLM::Worker_TP0',
        'VLLM::Worker_TP1',
        expect.stringContaining('main.js serve'),
      ].sort(),
    );
    expect(sim.output()).toMatch(/^\(Worker_TP1 pid=\d+\) INFO .* rank 1 in world size 2 /m);
  });
});
