import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { Connections } from '../../../../src/eval/perf/connections.js';
import { StreamTimer, errorMessage, streamChat } from '../../../../src/eval/perf/stream-client.js';

const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }], usage: null })}\n\n`;
const usageChunk = `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } })}\n\n`;
const DONE = 'data: [DONE]\n\n';

describe('StreamTimer', () => {
  it('stamps TTFT at the first chunk with choices, an ITL per later chunk, latency at the last chunk', () => {
    const timer = new StreamTimer(1000);
    timer.feed(chunk({ role: 'assistant', content: '' }), 1050);
    timer.feed(chunk({ reasoning_content: 'a' }) + chunk({ reasoning: 'b' }), 1060);
    // The last token and its finish reason in one chunk, then the usage chunk with empty choices, split mid-line.
    const tail = chunk({ content: 'c' }, 'length') + usageChunk + DONE;
    timer.feed(tail.slice(0, 30), 1075);
    timer.feed(tail.slice(30), 1080);
    expect(timer.outcome()).toEqual({
      ok: true,
      ttftMs: 50,
      itlMs: [10, 0, 20],
      latencyMs: 80,
      promptTokens: 12,
      outputTokens: 3,
    });
  });

  it('takes the finish reason apart from the last token, and keys missing from a delta', () => {
    const timer = new StreamTimer(0);
    timer.feed(chunk({ content: 'x' }), 5);
    timer.feed(chunk({}, 'stop'), 6);
    timer.feed(usageChunk + DONE, 7);
    // The usage chunk has no choices: no ITL of its own, but the latency ends with it, as in vLLM's client.
    expect(timer.outcome()).toMatchObject({ ok: true, ttftMs: 5, itlMs: [1], latencyMs: 7 });
  });

  it('fails a stream without usage, without [DONE], or with an error chunk', () => {
    const noUsage = new StreamTimer(0);
    noUsage.feed(chunk({ content: 'x' }) + DONE, 1);
    expect(noUsage.outcome()).toMatchObject({ ok: false, reason: expect.stringContaining('no usage') });
    const cut = new StreamTimer(0);
    cut.feed(chunk({ content: 'x' }), 1);
    expect(cut.outcome()).toEqual({ ok: false, reason: 'stream ended before [DONE]' });
    const broken = new StreamTimer(0);
    broken.feed(
      `data: ${JSON.stringify({ error: { message: 'EngineCore died', code: 500 } })}\n\n${DONE}`,
      1,
    );
    expect(broken.outcome()).toEqual({ ok: false, reason: 'stream error: EngineCore died' });
  });
});

describe('errorMessage', () => {
  it('times servers that space their JSON, or send the last token with its usage, as vLLM-shaped ones', () => {
    // Python's json.dumps puts a space after each colon: such chunks take the parsing path.
    const spaced = (delta: Record<string, unknown>) =>
      `data: ${JSON.stringify({ choices: [{ index: 0, delta }] }).replace(/":/g, '": ')}\n\n`;
    const timer = new StreamTimer(0);
    timer.feed(spaced({ content: '"choices":[{' }), 10);
    timer.feed(spaced({ content: 'b' }), 14);
    // continuous_usage_stats: usage rides on a token chunk.
    const last = {
      choices: [{ index: 0, delta: { content: 'c' } }],
      usage: { prompt_tokens: 3, completion_tokens: 3 },
    };
    timer.feed(`data: ${JSON.stringify(last)}\n\n${DONE}`, 20);
    expect(timer.outcome()).toEqual({
      ok: true,
      ttftMs: 10,
      itlMs: [4, 6],
      latencyMs: 20,
      promptTokens: 3,
      outputTokens: 3,
    });
  });

  it('reads nested and flat vLLM error bodies and falls back to the text', () => {
    expect(errorMessage('{"error":{"message":"too long","code":400}}')).toBe('too long');
    expect(errorMessage('{"object":"error","message":"flat"}')).toBe('flat');
    expect(errorMessage('Internal Server Error')).toBe('Internal Server Error');
  });
});

describe('streamChat', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  async function target(
    handle: (request: IncomingMessage, response: ServerResponse) => void,
    signal = new AbortController().signal,
    timeoutMs = 5_000,
  ) {
    const server = createServer(handle);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const connections = new Connections(new URL(`http://127.0.0.1:${port}/v1/chat/completions`), {}, 2);
    closers.push(async () => {
      await connections.close();
      server.closeAllConnections();
      server.close();
    });
    return { connections, timeoutMs, signal };
  }

  it('times a streamed completion as the server sends it', async () => {
    const tokens = [
      chunk({ role: 'assistant', content: '' }),
      chunk({ content: 'a' }),
      chunk({ content: 'b' }),
    ];
    const streamed = await target((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      let sent = 0;
      const next = (): void => {
        const token = tokens[sent++];
        if (token) {
          response.write(token);
          setTimeout(next, 250);
        } else response.end(usageChunk + DONE);
      };
      next();
    });
    const outcome = await streamChat(streamed, '{}');
    expect(outcome).toMatchObject({ ok: true, promptTokens: 12, outputTokens: 3 });
    if (!outcome.ok) return;
    expect(outcome.itlMs).toHaveLength(2);
    // Stamped as each token arrived, 250 ms apart as sent; stamped all at the end they would be about 0 apart.
    for (const gap of outcome.itlMs) expect(gap).toBeGreaterThan(50);
  });

  it('fails an HTTP error with the message of its body, a time-out and an abort', async () => {
    const failing = await target((_request, response) => {
      response.writeHead(500, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ error: { message: 'EngineCore died', code: 500 } }));
    });
    expect(await streamChat(failing, '{}')).toEqual({ ok: false, reason: 'HTTP 500: EngineCore died' });
    const silent = (_request: IncomingMessage, response: ServerResponse): void => {
      response.writeHead(200);
      response.write(chunk({ role: 'assistant' }));
    };
    expect(await streamChat(await target(silent, undefined, 100), '{}')).toEqual({
      ok: false,
      reason: 'timed out after 0.1 s',
    });
    const stop = new AbortController();
    const stopped = streamChat(await target(silent, stop.signal), '{}');
    setTimeout(() => stop.abort(), 50);
    expect(await stopped).toEqual({ ok: false, reason: 'aborted' });
  });

  it('fails a request sent after its connections were closed, without waiting for the time-out', async () => {
    const closed = await target((_request, response) => response.end());
    await closed.connections.close();
    expect(await streamChat(closed, '{}')).toEqual({
      ok: false,
      reason: expect.stringMatching(/^connection: .*destroyed/),
    });
  });
});
