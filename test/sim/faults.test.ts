import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type SimHandle,
  isPortOpen,
  killAllSims,
  sleep,
  startReadySim,
  startSim,
  tempDir,
} from './helpers.js';

afterEach(killAllSims);

async function post(sim: SimHandle, body: Record<string, unknown>, signal?: AbortSignal): Promise<Response> {
  return fetch(`${sim.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    signal,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'hello' }], ...body }),
  });
}

describe('load crashes (VLLM_SIM_FAULT=crash_on_load:…)', () => {
  const cases: Array<[string, string, RegExp]> = [
    [
      'cuda_oom',
      '0.17.1',
      /^\(EngineCore_DP0 pid=\d+\) ERROR .*\] torch\.OutOfMemoryError: CUDA out of memory\. Tried to allocate/m,
    ],
    [
      'kv_cache',
      '0.9.2',
      /^ERROR .*\] ValueError: To serve at least one request with the models's max seq len \(40960\), \([\d.]+ GiB KV cache is needed, which is larger than the available KV cache memory \([\d.]+ GiB\)\. Based on the available memory, the estimated maximum model length is \d+\./m,
    ],
    [
      'gpu_memory',
      '0.17.1',
      /ValueError: Free memory on device cuda:0 \([\d.]+\/79\.19 GiB\) on startup is less than desired GPU memory utilization \(0\.9, [\d.]+ GiB\)\./,
    ],
  ];
  it.each(cases)(
    '%s (%s): root cause above the RuntimeError, exit 1, port never opened',
    async (kind, version, rootCause) => {
      // One log file for both streams, as evalrig captures vLLM: it keeps the real line order.
      const sim = await startSim({
        env: { VLLM_SIM_FAULT: `crash_on_load:${kind}`, VLLM_SIM_VERSION: version, VLLM_SIM_LOAD_TIME: '1' },
        logFile: join(tempDir(), 'vllm.log'),
      });
      expect((await sim.exited).code).toBe(1);
      await Promise.race([sim.drained, sleep(2000)]);
      const out = sim.output();
      const cause = out.search(rootCause);
      const tail = out.search(
        /RuntimeError: Engine core initialization failed\. See root cause above\. Failed core proc\(s\): \{\}$/m,
      );
      expect(cause).toBeGreaterThanOrEqual(0);
      expect(tail).toBeGreaterThan(cause);
      expect(out).toMatch(/ERROR .*\] EngineCore failed to start\./);
      expect(out).not.toContain('Application startup complete');
      expect(await isPortOpen(sim.port)).toBe(false);
    },
  );

  it('port_in_use fails with OSError before the engine starts', async () => {
    const sim = await startSim({ env: { VLLM_SIM_FAULT: 'crash_on_load:port_in_use' } });
    expect((await sim.exited).code).toBe(1);
    expect(sim.stderr()).toMatch(/OSError: \[Errno 98\] Address already in use\n$/);
  });
});

describe('runtime faults', () => {
  it('crash_after:N kills the engine: in-flight requests get 500, /health 503, exit 1', async () => {
    const sim = await startReadySim({
      env: { VLLM_SIM_FAULT: 'crash_after:2', VLLM_SIM_TOKEN_LATENCY_MS: '30' },
    });
    expect((await post(sim, { max_tokens: 1 })).status).toBe(200);
    const inFlight = post(sim, { stream: true }); // ~60 tokens × 30 ms
    await sleep(100);
    expect((await post(sim, { max_tokens: 1 })).status).toBe(200); // the 2nd completion
    const streamed = await (await inFlight).text();
    expect(streamed).toMatch(
      /data: \{"error":\{"message":"EngineCore encountered an issue\. See stack trace \(above\) for the root cause\.","type":"InternalServerError","param":null,"code":500\}\}\n\ndata: \[DONE\]\n\n$/,
    );
    expect((await fetch(`${sim.baseUrl}/health`)).status).toBe(503);
    const late = await post(sim, {});
    expect(late.status).toBe(500);
    expect(await late.json()).toMatchObject({ error: { type: 'InternalServerError', code: 500 } });
    expect((await sim.exited).code).toBe(1);
    const out = sim.output();
    expect(out.indexOf('RuntimeError: CUDA error: an illegal memory access was encountered')).toBeLessThan(
      out.indexOf('EngineDeadError'),
    );
    expect(out).toMatch(/\(EngineCore_DP0 pid=\d+\) ERROR .*\] EngineCore encountered a fatal error\./);
  });

  it('hang_after:N wedges the server: later requests, /health included, get no answer; the process lives on', async () => {
    const sim = await startReadySim({ env: { VLLM_SIM_FAULT: 'hang_after:1' } });
    expect((await post(sim, { max_tokens: 1 })).status).toBe(200);
    const health = await fetch(`${sim.baseUrl}/health`, { signal: AbortSignal.timeout(1_000) }).then(
      (response) => `answered ${response.status}`,
      (error: Error) => error.name,
    );
    expect(health).toBe('TimeoutError');
    const chat = await post(sim, { max_tokens: 1 }, AbortSignal.timeout(1_000)).then(
      (response) => `answered ${response.status}`,
      (error: Error) => error.name,
    );
    expect(chat).toBe('TimeoutError');
    expect(sim.child.exitCode).toBeNull();
  });

  it('break_stream and stall_stream cut or stall a streamed answer halfway', async () => {
    const broken = await startReadySim({
      env: { VLLM_SIM_FAULT: 'break_stream:1', VLLM_SIM_TOKEN_LATENCY_MS: '5' },
    });
    const cut = await post(broken, { stream: true }).then((response) =>
      response.text().then(
        () => 'complete',
        (error: Error) => `broke: ${error.message}`,
      ),
    );
    expect(cut).toMatch(/^broke: /);

    const stalled = await startReadySim({
      env: { VLLM_SIM_FAULT: 'stall_stream:1', VLLM_SIM_TOKEN_LATENCY_MS: '5' },
    });
    const response = await post(stalled, { stream: true }, AbortSignal.timeout(2_000));
    const reader = response.body?.getReader();
    let text = '';
    const ending = await (async () => {
      for (;;) {
        const chunk = await reader?.read();
        if (!chunk || chunk.done) return 'ended';
        text += new TextDecoder().decode(chunk.value);
      }
    })().catch((error: Error) => error.name);
    expect(ending).toBe('TimeoutError');
    expect(text).toContain('data: {');
    expect(text).not.toContain('[DONE]');
  });

  it('never_ready keeps the port closed and logs stop during graph capture', async () => {
    // A twin without the fault, started alongside, shows when the port would have opened.
    const [sim] = await Promise.all([
      startSim({ env: { VLLM_SIM_FAULT: 'never_ready', VLLM_SIM_LOAD_TIME: '0.3' } }),
      startReadySim({ env: { VLLM_SIM_LOAD_TIME: '0.3' } }),
    ]);
    await sim.waitForOutput(/Capturing CUDA graphs/);
    expect(await isPortOpen(sim.port)).toBe(false);
    expect(sim.output()).not.toContain('init engine (profile, create kv cache, warmup model)');
    expect(sim.groupPids()).toHaveLength(2);
  });

  it('http_error bursts and rates use vLLM / OpenAI error bodies', async () => {
    const burst = await startReadySim({ env: { VLLM_SIM_FAULT: 'http_error:503x2' } });
    const first = await post(burst, {});
    expect(first.status).toBe(503);
    expect(await first.json()).toMatchObject({ error: { type: 'ServiceUnavailableError', code: 503 } });
    expect((await post(burst, {})).status).toBe(503);
    expect((await post(burst, {})).status).toBe(200);

    const limited = await startReadySim({ env: { VLLM_SIM_FAULT: 'http_error:429@1' } });
    const openai = new OpenAI({ baseURL: `${limited.baseUrl}/v1`, apiKey: 'x', maxRetries: 0 });
    await expect(
      openai.chat.completions.create({
        model: '/models/Qwen3-8B',
        messages: [{ role: 'user', content: 'x' }],
      }),
    ).rejects.toMatchObject({
      status: 429,
      code: 'rate_limit_exceeded',
    });

    const flaky = await startReadySim({
      env: { VLLM_SIM_FAULT: 'http_error:500@0.3', VLLM_SIM_VERSION: '0.8.5' },
    });
    const statuses = await Promise.all(
      Array.from({ length: 60 }, async () => (await post(flaky, { max_tokens: 1 })).status),
    );
    const failed = statuses.filter((s) => s === 500).length;
    expect(failed).toBeGreaterThan(5);
    expect(failed).toBeLessThan(35);
    const body = await (await fetch(`${flaky.baseUrl}/health`)).text();
    expect(body).toBe('');
  });

  it('ignore_sigterm: neither server nor EngineCore reacts to SIGTERM/SIGINT; SIGKILL ends them', async () => {
    const sim = await startReadySim({ env: { VLLM_SIM_FAULT: 'ignore_sigterm' } });
    sim.killGroup('SIGTERM');
    sim.killGroup('SIGINT');
    await sleep(500);
    expect(sim.groupPids()).toHaveLength(2);
    expect((await fetch(`${sim.baseUrl}/health`)).status).toBe(200);
    sim.killGroup('SIGKILL');
    expect(await sim.exited).toEqual({ code: null, signal: 'SIGKILL' });
  });

  it('slow_tokens:F multiplies the per-token latency, from the request given after @', async () => {
    const dir = tempDir();
    const config = join(dir, 'sim.yaml');
    writeFileSync(config, 'token_latency_ms: 4\nfault: [ "slow_tokens:5@1" ]\n');
    // fast: false, or FAST_ENV's latency 0 (the environment beats the file) would win.
    const sim = await startReadySim({
      fast: false,
      env: { VLLM_SIM_CONFIG: config, VLLM_SIM_LOAD_TIME: '0.3', VLLM_SIM_TTFT_MS: '0' },
    });
    const timed = async () => {
      const t = Date.now();
      expect((await post(sim, { max_tokens: 40 })).status).toBe(200);
      return Date.now() - t;
    };
    const normal = await timed(); // request 1: 40 × 4 ms
    const slow = await timed(); // request 2: 40 × 20 ms
    expect(slow).toBeGreaterThanOrEqual(39 * 20); // no token is released early
    expect(slow - normal).toBeGreaterThan(300);
  });
});
