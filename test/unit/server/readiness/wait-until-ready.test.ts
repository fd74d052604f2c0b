import { afterEach, describe, expect, it } from 'vitest';
import { ReadinessError } from '../../../../src/server/readiness/readiness-error.js';
import { waitUntilReady } from '../../../../src/server/readiness/wait-until-ready.js';
import { fakeHandle, healthAfter, json, MODELS, startStub, type Stub } from './stub.js';

let stub: Stub | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

async function failure(promise: Promise<unknown>): Promise<ReadinessError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(ReadinessError);
  return error as ReadinessError;
}

describe('waitUntilReady', () => {
  it('waits for /health, then finds the served model and reads /version', async () => {
    stub = await startStub({
      '/health': healthAfter(3),
      '/v1/models': json(200, MODELS),
      '/version': json(200, { version: '0.11.0' }),
    });
    const ready = await waitUntilReady(fakeHandle(stub.baseUrl), { timeoutMs: 10_000, pollIntervalMs: 20 });
    expect(ready).toMatchObject({
      servedModel: 'Qwen3-8B',
      vllmVersion: '0.11.0',
      maxModelLen: 8192,
      servedModels: ['Qwen3-8B'],
    });
    expect(stub.hits.get('/health')).toBe(4);
    // /v1/models is asked only once /health said yes.
    expect(stub.hits.get('/v1/models')).toBe(1);
  });

  it('takes a server without /version as version unknown', async () => {
    stub = await startStub({ '/health': healthAfter(0), '/v1/models': json(200, MODELS) });
    const ready = await waitUntilReady(fakeHandle(stub.baseUrl), { timeoutMs: 5_000 });
    expect(ready.vllmVersion).toBeNull();
  });

  it('sends the API key to /v1/models and explains a 401', async () => {
    const keys: (string | undefined)[] = [];
    stub = await startStub({
      '/health': healthAfter(0),
      '/v1/models': (request, response) => {
        keys.push(request.headers.authorization);
        response.writeHead(401).end('{"error":"Unauthorized"}');
      },
    });
    const error = await failure(
      waitUntilReady(fakeHandle(stub.baseUrl, { apiKey: 'sk-wrong-key' }), { timeoutMs: 5_000 }),
    );
    expect(keys).toEqual(['Bearer sk-wrong-key']);
    expect(error.kind).toBe('wrong-server');
    expect(error.message).toContain(
      '401 Unauthorized: server.api_key does not match the key the server was started with',
    );
  });

  it('refuses a server that does not list the model, with the runtime’s fix', async () => {
    stub = await startStub({ '/health': healthAfter(0), '/v1/models': json(200, MODELS) });
    const error = await failure(
      waitUntilReady(fakeHandle(stub.baseUrl, { servedModel: 'Llama' }), { timeoutMs: 5_000 }),
    );
    expect(error.message).toBe(
      `${stub.baseUrl} answers, but /v1/models lists [Qwen3-8B], not "Llama". stop the other server`,
    );
  });

  it('takes the first model when the plan names none (an external endpoint)', async () => {
    stub = await startStub({ '/health': healthAfter(0), '/v1/models': json(200, MODELS) });
    const ready = await waitUntilReady(fakeHandle(stub.baseUrl, { servedModel: '' }), { timeoutMs: 5_000 });
    expect(ready.servedModel).toBe('Qwen3-8B');
  });

  it('refuses something that is not an OpenAI-compatible server', async () => {
    stub = await startStub({
      '/health': healthAfter(0),
      '/v1/models': (_request, response) => response.writeHead(200).end('<html>hello</html>'),
    });
    const error = await failure(waitUntilReady(fakeHandle(stub.baseUrl), { timeoutMs: 5_000 }));
    expect(error.message).toContain('not a model list: is this a vLLM (OpenAI-compatible) server?');
  });

  it('fails at once when the server exits, quoting the fatal log line and its fix', async () => {
    stub = await startStub({ '/health': healthAfter(1_000_000) });
    const handle = fakeHandle(stub.baseUrl, {
      log: [
        'INFO 05-01 10:00:00 [api_server.py:1] vLLM API server version 0.9.2',
        'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB.',
        'RuntimeError: Engine core initialization failed. See root cause above.',
      ],
    });
    const started = Date.now();
    setTimeout(() => handle.exit({ code: 1, signal: null }), 200);
    const error = await failure(waitUntilReady(handle, { timeoutMs: 30_000, pollIntervalMs: 20 }));
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(error.kind).toBe('exited');
    expect(error.message).toContain('vLLM exited with code 1 before it was ready.');
    expect(error.message).toContain('cause: torch.OutOfMemoryError: CUDA out of memory');
    expect(error.message).toContain('fix:   the GPU ran out of memory');
    expect(error.tail).toHaveLength(3);
  });

  it('times out with the runtime’s fix, quoting no log when there is none', async () => {
    stub = await startStub({ '/health': healthAfter(1_000_000) });
    const error = await failure(
      waitUntilReady(fakeHandle(stub.baseUrl, { launched: false }), { timeoutMs: 600, pollIntervalMs: 20 }),
    );
    expect(error.kind).toBe('timeout');
    expect(error.message).toContain(
      `vLLM at ${stub.baseUrl} was not ready after 1 s (server.startup_timeout)`,
    );
    expect(error.message).toContain('fix:   raise the start-up time');
    expect(error.message).not.toContain('log');
  });

  it('stops waiting when the run is interrupted', async () => {
    stub = await startStub({ '/health': healthAfter(1_000_000) });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const error = await failure(
      waitUntilReady(fakeHandle(stub.baseUrl), { timeoutMs: 30_000, signal: controller.signal }),
    );
    expect(error.kind).toBe('aborted');
  });

  it('keeps polling a port that refuses connections (vLLM before its weights are loaded)', async () => {
    const closed = await startStub({});
    const baseUrl = closed.baseUrl;
    await closed.close();
    const error = await failure(waitUntilReady(fakeHandle(baseUrl), { timeoutMs: 700, pollIntervalMs: 20 }));
    expect(error.kind).toBe('timeout');
  });

  describe('woken by the server log', () => {
    const STARTUP_COMPLETE = 'INFO:     Application startup complete.';

    it('probes at once when the server prints a line, and is ready as soon as /health says so', async () => {
      let up = false;
      stub = await startStub({
        '/health': (_request, response) => response.writeHead(up ? 200 : 503).end(),
        '/v1/models': json(200, MODELS),
      });
      const handle = fakeHandle(stub.baseUrl);
      // Without a line the probes back off to 5 s apart: only the line can explain a quick answer.
      const waiting = waitUntilReady(handle, { timeoutMs: 30_000, pollIntervalMs: 5_000 });
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const probesBefore = stub.hits.get('/health') ?? 0;
      up = true;
      handle.print(STARTUP_COMPLETE);
      await waiting;
      expect(stub.hits.get('/health')).toBe(probesBefore + 1);
    });

    it('never takes a line for readiness: /health alone decides', async () => {
      stub = await startStub({ '/health': healthAfter(1_000_000) });
      const handle = fakeHandle(stub.baseUrl, { launched: true });
      const waiting = failure(waitUntilReady(handle, { timeoutMs: 800, pollIntervalMs: 5_000 }));
      await new Promise((resolve) => setTimeout(resolve, 300));
      const probesBefore = stub.hits.get('/health') ?? 0;
      handle.print('INFO:     Route: /health, Methods: GET');
      handle.print(STARTUP_COMPLETE);
      const error = await waiting;
      expect(error.kind).toBe('timeout');
      // The lines did wake the probe, which found the server not ready.
      expect(stub.hits.get('/health')).toBeGreaterThan(probesBefore);
      expect(stub.hits.has('/v1/models')).toBe(false);
    });
  });
});
