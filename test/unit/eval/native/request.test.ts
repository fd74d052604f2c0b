import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  BadRequestError,
  InternalServerError,
  RateLimitError,
} from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import {
  buildChatRequest,
  createClient,
  describeRequestError,
  errorKind,
  MAX_RETRY_AFTER_MS,
  RequestControllers,
  requestWithRetries,
  retryAfterMs,
  TimeLimitError,
  type RequestOutcome,
} from '../../../../src/eval/native/request.js';
import { GenerationSchema } from '../../../../src/plan/schema.js';
import { freePort } from '../../../sim/helpers.js';
import {
  answer,
  sendChunk,
  sendError,
  sleep,
  startFakeVllm,
  startStream,
  type ChatHandler,
  type FakeVllm,
} from './fake-vllm.js';

const defaults = GenerationSchema.parse({});

describe('buildChatRequest', () => {
  it('sends the prompt as the only user message, with the plan settings and vLLM extensions in the body', () => {
    const settings = {
      max_tokens: 512,
      temperature: 0.7,
      top_p: 0.8,
      top_k: 20,
      min_p: 0,
      presence_penalty: 1.5,
      seed: 42,
      chat_template_kwargs: { enable_thinking: false },
    };
    const generation = GenerationSchema.parse(settings);
    expect(JSON.parse(JSON.stringify(buildChatRequest('Qwen3-8B', 'PROMPT', generation)))).toEqual({
      model: 'Qwen3-8B',
      messages: [{ role: 'user', content: 'PROMPT' }],
      ...settings,
    });
  });

  it('leaves unset settings out, so the server defaults apply', () => {
    expect(JSON.parse(JSON.stringify(buildChatRequest('m', 'p', defaults)))).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'p' }],
    });
  });
});

describe('describeRequestError', () => {
  it('gives the HTTP status and the response body', () => {
    const error = new InternalServerError(
      500,
      { message: 'engine dead', code: 500 },
      undefined,
      new Headers(),
    );
    expect(describeRequestError(error)).toBe('HTTP 500: {"message":"engine dead","code":500}');
  });

  it('keeps the status line when the body was not JSON', () => {
    const error = APIError.generate(502, undefined, 'Bad Gateway', new Headers());
    expect(describeRequestError(error)).toBe('HTTP 502 Bad Gateway');
  });

  it('names the root cause of a failed connection', () => {
    const refused = new APIConnectionError({
      cause: new TypeError('fetch failed', { cause: new Error('connect ECONNREFUSED 127.0.0.1:8000') }),
    });
    expect(describeRequestError(refused)).toBe('connection failed: connect ECONNREFUSED 127.0.0.1:8000');
  });

  it('reports an error event inside a stream', () => {
    const error = new APIError(undefined, { message: 'out of KV cache' }, undefined, undefined);
    expect(describeRequestError(error)).toBe('error in the response stream: {"message":"out of KV cache"}');
  });

  it('falls back to the message of anything else', () => {
    const error = new TimeLimitError('no response within 5s (generation.timeout)', 'timeout');
    expect(describeRequestError(error)).toBe('no response within 5s (generation.timeout)');
  });
});

describe('errorKind', () => {
  const statusError = (status: number) =>
    APIError.generate(status, { message: 'x' }, undefined, new Headers());

  it.each([500, 502, 503, 504, 429, 408])('retries HTTP %i', (status) => {
    expect(errorKind(statusError(status))).toBe('transient');
  });

  it.each([400, 401, 403, 404, 422])('does not retry HTTP %i', (status) => {
    expect(errorKind(statusError(status))).toBe('permanent');
  });

  it('retries connection failures and stalls, not an answer that outgrew max_request_time', () => {
    expect(errorKind(new APIConnectionError({ cause: new Error('ECONNRESET') }))).toBe('transient');
    expect(errorKind(new APIConnectionTimeoutError())).toBe('transient');
    expect(errorKind(new TimeLimitError('stalled', 'timeout'))).toBe('transient');
    expect(errorKind(new TimeLimitError('too long', 'max_request_time'))).toBe('permanent');
  });

  it('reads the status of an error event inside a stream from its code', () => {
    const event = (code: unknown) => new APIError(undefined, { message: 'x', code }, undefined, undefined);
    expect(errorKind(event(500))).toBe('transient');
    expect(errorKind(event('503'))).toBe('transient');
    expect(errorKind(event(400))).toBe('permanent');
    expect(errorKind(event(undefined))).toBe('transient');
  });

  it('does not retry what it does not know', () => {
    expect(errorKind(new Error('a bug'))).toBe('permanent');
  });
});

describe('retryAfterMs', () => {
  const limited = (retryAfter: string) =>
    new RateLimitError(429, { message: 'slow down' }, undefined, new Headers({ 'retry-after': retryAfter }));

  it('reads delay seconds and HTTP dates', () => {
    expect(retryAfterMs(limited('2'))).toBe(2000);
    const inThreeSeconds = new Date(Date.now() + 3000).toUTCString();
    expect(retryAfterMs(limited(inThreeSeconds))).toBeGreaterThan(1000);
    expect(retryAfterMs(limited(inThreeSeconds))).toBeLessThanOrEqual(3000);
    expect(retryAfterMs(limited('Thu, 01 Jan 1970 00:00:00 GMT'))).toBe(0);
  });

  it('caps a long wait and ignores what it cannot read', () => {
    expect(retryAfterMs(limited('86400'))).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterMs(limited('soon'))).toBeUndefined();
    expect(retryAfterMs(new BadRequestError(400, {}, undefined, new Headers()))).toBeUndefined();
    expect(retryAfterMs(new Error('x'))).toBeUndefined();
  });
});

describe('requestWithRetries against a local HTTP server', () => {
  let server: FakeVllm | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  async function ask(
    handler: ChatHandler,
    generation: Record<string, unknown>,
    stop = new AbortController(),
  ): Promise<RequestOutcome> {
    server = await startFakeVllm(handler);
    return askAt(server.baseUrl, generation, stop);
  }

  function askAt(
    baseUrl: string,
    generation: Record<string, unknown>,
    stop = new AbortController(),
  ): Promise<RequestOutcome> {
    const settings = GenerationSchema.parse(generation);
    return requestWithRetries(
      createClient({ baseUrl, servedModel: 'm' }, settings),
      buildChatRequest('m', 'PROMPT', settings),
      settings,
      new RequestControllers(stop.signal),
    );
  }

  it('retries a 503 and takes the answer that follows', async () => {
    const outcome = await ask(
      (call, response) =>
        call.n === 1 ? sendError(response, 503, 'Service Unavailable') : answer(call, response),
      { retries: 2 },
    );
    expect(outcome).toMatchObject({ attempts: 2, completion: { finishReason: 'stop' } });
    expect(server?.calls).toHaveLength(2);
  });

  it('waits as long as a 429 asks (Retry-After) before the next attempt', async () => {
    const retryAfterSeconds = 2;
    const started = performance.now();
    const outcome = await ask(
      (call, response) =>
        call.n === 1
          ? sendError(response, 429, 'Rate limit reached', { 'retry-after': String(retryAfterSeconds) })
          : answer(call, response),
      { retries: 1 },
    );
    expect(outcome).toMatchObject({ attempts: 2 });
    // The backoff alone is 1-2 s: only Retry-After makes it at least 2 s.
    expect(performance.now() - started).toBeGreaterThanOrEqual(retryAfterSeconds * 1000);
  });

  it.each([
    { status: 400, message: "This model's maximum context length is 8192 tokens." },
    { status: 401, message: 'Unauthorized' },
    { status: 404, message: 'The model `x` does not exist.' },
  ])('does not retry HTTP $status, and says why it failed', async ({ status, message }) => {
    const outcome = await ask((_, response) => sendError(response, status, message), { retries: 3 });
    expect(outcome).toMatchObject({ attempts: 1, kind: 'permanent' });
    expect('error' in outcome && outcome.error).toContain(`HTTP ${status}: `);
    expect('error' in outcome && outcome.error).toContain(message);
    expect(server?.calls).toHaveLength(1);
  });

  it('retries a refused connection, and gives up after the last retry as a transient error', async () => {
    const port = await freePort();
    const outcome = await askAt(`http://127.0.0.1:${port}/v1`, { retries: 1 });
    expect(outcome).toMatchObject({ attempts: 2, kind: 'transient' });
    expect('error' in outcome && outcome.error).toMatch(/^connection failed: .*ECONNREFUSED/);
  });

  const breakingStream =
    (failures: number): ChatHandler =>
    (call, response) => {
      if (call.n > failures) return answer(call, response);
      startStream(response);
      sendChunk(response, { role: 'assistant', reasoning: '想' });
      sendChunk(response, { reasoning: '一想' });
      setTimeout(() => response.socket?.destroy(), 50);
    };

  it('retries a stream whose connection breaks mid-answer', async () => {
    const outcome = await ask(breakingStream(1), { stream: true, retries: 2 });
    expect(outcome).toMatchObject({ attempts: 2, completion: { finishReason: 'stop' } });
  });

  it('says that the stream broke off when it breaks on the last attempt', async () => {
    const outcome = await ask(breakingStream(1), { stream: true, retries: 0 });
    expect(outcome).toMatchObject({ attempts: 1, kind: 'transient' });
    expect('error' in outcome && outcome.error).toMatch(/^the response broke off: \S/);
  });

  it('tells a stream cut off without a finish_reason, with no retries left', async () => {
    const outcome = await ask(
      (_, response) => {
        startStream(response);
        sendChunk(response, { role: 'assistant', reasoning: '想' });
        response.end();
      },
      { stream: true, retries: 0 },
    );
    expect(outcome).toMatchObject({
      attempts: 1,
      kind: 'transient',
      error: 'the response stream ended before the answer was finished',
    });
  });

  it('classifies an error event inside a stream by its code', async () => {
    const outcome = await ask(
      (call, response) => {
        startStream(response);
        if (call.n === 1) {
          response.end(
            `data: ${JSON.stringify({ error: { message: 'EngineCore died', type: 'InternalServerError', code: 500 } })}\n\ndata: [DONE]\n\n`,
          );
          return;
        }
        sendChunk(response, { content: '答案：B' }, 'stop');
        response.end('data: [DONE]\n\n');
      },
      { stream: true, retries: 1 },
    );
    expect(outcome).toMatchObject({ attempts: 2, completion: { finishReason: 'stop' } });
  });

  it('cuts a server that sends nothing after `timeout`, saying which limit fired', async () => {
    const outcome = await ask(() => undefined, { timeout: 0.3, retries: 0 });
    expect(outcome).toMatchObject({
      attempts: 1,
      kind: 'transient',
      error: 'no response within 0.3s (generation.timeout)',
    });
  });

  it('cuts a stream that stalls after its first chunks', async () => {
    const outcome = await ask(
      (_, response) => {
        startStream(response);
        sendChunk(response, { role: 'assistant', reasoning: '想' });
      },
      { stream: true, timeout: 0.3, retries: 0 },
    );
    expect(outcome).toMatchObject({
      kind: 'transient',
      error: 'the response stream stalled: nothing arrived for 0.3s (generation.timeout)',
    });
  });

  // A chunk every 100 ms for 2.5 s in all: far longer than `timeout`, but never a wait as long as it.
  const steadyStream =
    (chunks: number): ChatHandler =>
    async (_, response) => {
      startStream(response);
      for (let i = 0; i < chunks && !response.destroyed; i++) {
        sendChunk(response, { reasoning: '嗯' });
        await sleep(100);
      }
      sendChunk(response, { content: '答案：B' }, 'stop');
      response.end('data: [DONE]\n\n');
    };

  it('does not cut a long answer whose tokens keep flowing', async () => {
    const outcome = await ask(steadyStream(25), { stream: true, timeout: 1, retries: 0 });
    expect(outcome).toMatchObject({ attempts: 1, completion: { finishReason: 'stop' } });
    expect('completion' in outcome && outcome.completion.latencyMs).toBeGreaterThanOrEqual(2000);
  });

  it('cuts any answer at max_request_time, and does not retry it', async () => {
    const outcome = await ask(steadyStream(50), {
      stream: true,
      timeout: 1,
      max_request_time: 0.8,
      retries: 2,
    });
    expect(outcome).toMatchObject({
      attempts: 1,
      kind: 'permanent',
      error: 'still answering after 0.8s (generation.max_request_time)',
    });
  });

  it('rejects with the stop reason when stopped during the pause before a retry', async () => {
    const stop = new AbortController();
    // Retry-After makes the pause 30 s: a stop that waited it out would time the test out.
    const asking = ask(
      (_, response) => sendError(response, 503, 'busy', { 'retry-after': '30' }),
      { retries: 5 },
      stop,
    );
    await sleep(300);
    const stoppedAt = performance.now();
    stop.abort(new Error('interrupted'));
    await expect(asking).rejects.toThrow('interrupted');
    expect(performance.now() - stoppedAt).toBeLessThan(5_000);
    expect(server?.calls).toHaveLength(1);
  });
});
