import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sample } from '../../../../src/datasets/types.js';
import { ServerUnresponsiveError } from '../../../../src/eval/errors.js';
import { runNative, type NativeRunContext } from '../../../../src/eval/native/runner.js';
import type { EvalResult, PredictionRecord } from '../../../../src/eval/types.js';
import { GenerationSchema } from '../../../../src/plan/schema.js';
import { answer, sendError, startFakeVllm, type ChatHandler, type FakeVllm } from './fake-vllm.js';

// runNative against a local HTTP server that answers every question with B (the gold answer) unless a test makes
// it fail. Each sample's question carries its index, so the server's calls say which samples were asked.

function samples(count: number): Sample[] {
  return Array.from({ length: count }, (_, i) => ({
    id: `S-${i}`,
    subset: i % 2 ? 'EQ' : 'IQ',
    question: `question ${i}`,
    choices: ['one', 'two', 'three'],
    answer: 'B',
    meta: {},
  }));
}

const askedIndex = (prompt: string): number => Number(/question (\d+)/.exec(prompt)?.[1]);

let server: FakeVllm | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

interface Run {
  generation?: Record<string, unknown>;
  concurrency?: number;
  count?: number;
  evalDir?: string;
  ctx?: Partial<NativeRunContext>;
}

async function run(
  handler: ChatHandler,
  options: Run = {},
): Promise<{ result: EvalResult; evalDir: string }> {
  server ??= await startFakeVllm(handler);
  const evalDir = options.evalDir ?? mkdtempSync(path.join(tmpdir(), 'evalrig-runner-'));
  const result = await runNative(
    {
      name: 'unit',
      dataset: 'mcq',
      concurrency: options.concurrency ?? 1,
      generation: GenerationSchema.parse(options.generation ?? {}),
      repeats: 1,
    },
    samples(options.count ?? 6),
    { baseUrl: server.baseUrl, servedModel: 'm' },
    { evalDir, signal: new AbortController().signal, ...options.ctx },
  );
  return { result, evalDir };
}

function readPredictions(evalDir: string): PredictionRecord[] {
  return readFileSync(path.join(evalDir, 'predictions.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as PredictionRecord);
}

describe('runNative', () => {
  it('counts retries per evaluation and attempts per sample', async () => {
    const { result, evalDir } = await run(
      (call, response) => (call.n <= 2 ? sendError(response, 503, 'busy') : answer(call, response)),
      { count: 3, generation: { retries: 2 } },
    );
    expect(result).toMatchObject({ num: 3, score: 1, errors: 0, retries: 2 });
    expect(result.resumed).toBeUndefined();
    expect(readPredictions(evalDir).map((record) => record.attempts)).toEqual([3, 1, 1]);
  });

  it('records a failure after the last retry with its kind, and goes on', async () => {
    const { result, evalDir } = await run(
      (call, response) =>
        askedIndex(call.prompt) === 1 ? sendError(response, 500, 'boom') : answer(call, response),
      { count: 3, generation: { retries: 1 } },
    );
    expect(result).toMatchObject({ num: 3, errors: 1, retries: 1 });
    expect(result.score).toBeCloseTo(2 / 3, 10);
    expect(readPredictions(evalDir)[1]).toMatchObject({
      id: 'S-1',
      error: 'HTTP 500: {"message":"boom","type":"Error","param":null,"code":500}',
      error_kind: 'transient',
      attempts: 2,
      correct: false,
    });
  });

  describe('circuit breaker', () => {
    it('stops once max_consecutive_failures requests in a row failed after their retries', async () => {
      const evalDir = mkdtempSync(path.join(tmpdir(), 'evalrig-runner-'));
      const running = run((_, response) => sendError(response, 503, 'down'), {
        count: 20,
        evalDir,
        generation: { retries: 0, max_consecutive_failures: 3 },
      });
      await expect(running).rejects.toBeInstanceOf(ServerUnresponsiveError);
      await expect(running).rejects.toThrow(
        /^vLLM stopped answering: 3 requests in a row failed after their retries \(the last: HTTP 503: /,
      );
      // The failures are on disk as transient, for a resumed run to ask again; nothing more was asked.
      const records = readPredictions(evalDir);
      expect(records.map((record) => record.error_kind)).toEqual(['transient', 'transient', 'transient']);
      expect(server?.calls).toHaveLength(3);
      expect(existsSync(path.join(evalDir, 'result.json'))).toBe(false);
    });

    it('starts counting again after an answer', async () => {
      const { result } = await run(
        (call, response) => (call.n % 3 === 0 ? answer(call, response) : sendError(response, 503, 'flaky')),
        { count: 9, generation: { retries: 0, max_consecutive_failures: 3 } },
      );
      expect(result).toMatchObject({ num: 9, errors: 6 });
    });

    it('is not tripped by requests the server refused (permanent errors)', async () => {
      const { result, evalDir } = await run(
        (_, response) => sendError(response, 400, "This model's maximum context length is 8192 tokens."),
        { count: 5, generation: { retries: 2, max_consecutive_failures: 2 } },
      );
      expect(result).toMatchObject({ num: 5, errors: 5, retries: 0 });
      expect(readPredictions(evalDir).every((record) => record.error_kind === 'permanent')).toBe(true);
    });
  });

  describe('abort', () => {
    it('sends nothing when the signal was aborted before the call', async () => {
      const abort = new AbortController();
      abort.abort();
      await expect(run(answer, { ctx: { signal: abort.signal } })).rejects.toMatchObject({
        name: 'AbortError',
      });
      expect(server?.calls).toHaveLength(0);
    });

    it('sends nothing when the signal is aborted while the run prepares its files', async () => {
      server = await startFakeVllm(answer);
      const abort = new AbortController();
      const running = run(answer, { ctx: { signal: abort.signal } });
      abort.abort();
      await expect(running).rejects.toMatchObject({ name: 'AbortError' });
      expect(server.calls).toHaveLength(0);
    });
  });

  describe('resume', () => {
    function line(id: string, extra: Partial<PredictionRecord> = {}): string {
      const index = Number(id.slice(2));
      return JSON.stringify({
        id,
        subset: index % 2 ? 'EQ' : 'IQ',
        prompt: `question ${index}`,
        content: '答案：B',
        reasoning: null,
        extracted: 'B',
        gold: 'B',
        correct: true,
        finish_reason: 'stop',
        truncated: false,
        error: null,
        error_kind: null,
        usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
        ttft_ms: null,
        latency_ms: 50,
        attempts: 1,
        ...extra,
      });
    }
    const transient = {
      error: 'HTTP 503: busy',
      error_kind: 'transient',
      correct: false,
      attempts: 3,
    } as const;
    const permanent = { error: 'HTTP 400: too long', error_kind: 'permanent', correct: false } as const;

    it('counts finished samples once, asks again those without a finished record, and drops a torn last line', async () => {
      const evalDir = mkdtempSync(path.join(tmpdir(), 'evalrig-runner-'));
      const file = path.join(evalDir, 'predictions.jsonl');
      const earlier = [
        line('S-0'),
        line('S-1', transient),
        line('S-2', permanent),
        line('S-3', transient),
        line('S-3', { attempts: 2 }),
        line('S-4'),
        line('S-4', transient),
      ];
      const torn = line('S-5').slice(0, 40);
      writeFileSync(file, earlier.join('\n') + '\n' + torn);

      const { result } = await run(answer, { count: 8, evalDir, ctx: { resume: true } });

      // S-1 and S-4 (newest line transient), S-5 (torn), S-6 and S-7 (no line).
      expect(server?.calls.map((call) => askedIndex(call.prompt)).sort()).toEqual([1, 4, 5, 6, 7]);
      expect(result).toMatchObject({ num: 8, resumed: 3, errors: 1 });
      expect(result.score).toBe(7 / 8);
      expect(result.subsets).toEqual([
        { name: 'IQ', num: 4, score: 0.75 },
        { name: 'EQ', num: 4, score: 1 },
      ]);
      // Retries of every earlier line (2 + 2 + 1 + 2) and none new.
      expect(result.retries).toBe(7);
      const text = readFileSync(file, 'utf8');
      expect(text.startsWith(earlier.join('\n') + '\n')).toBe(true);
      expect(text).not.toContain(torn);
      const records = readPredictions(evalDir);
      expect(records).toHaveLength(earlier.length + 5);
      const onDisk = JSON.parse(readFileSync(path.join(evalDir, 'result.json'), 'utf8')) as EvalResult;
      expect(onDisk).toEqual(result);
    });

    it('asks everything when there is no earlier file', async () => {
      const { result } = await run(answer, { count: 4, ctx: { resume: true } });
      expect(result).toMatchObject({ num: 4, score: 1, resumed: 0 });
      expect(server?.calls).toHaveLength(4);
    });

    it('resumes after the circuit breaker with every sample counted exactly once', async () => {
      const evalDir = mkdtempSync(path.join(tmpdir(), 'evalrig-runner-'));
      let serverDown = true;
      const handler: ChatHandler = (call, response) =>
        serverDown && call.n > 3 ? sendError(response, 502, 'Bad Gateway') : answer(call, response);
      const options: Run = { count: 12, evalDir, generation: { retries: 0, max_consecutive_failures: 2 } };
      await expect(run(handler, options)).rejects.toBeInstanceOf(ServerUnresponsiveError);
      const callsBefore = server?.calls.length ?? 0;

      serverDown = false;
      const { result } = await run(handler, { ...options, ctx: { resume: true } });
      expect(result).toMatchObject({ num: 12, score: 1, errors: 0, resumed: 3 });
      const asked = server?.calls.slice(callsBefore).map((call) => askedIndex(call.prompt));
      expect(asked).toEqual([3, 4, 5, 6, 7, 8, 9, 10, 11]);
    });

    it('starts a fresh file without resume', async () => {
      const evalDir = mkdtempSync(path.join(tmpdir(), 'evalrig-runner-'));
      writeFileSync(path.join(evalDir, 'predictions.jsonl'), line('S-0') + '\n');
      const { result } = await run(answer, { count: 2, evalDir });
      expect(result).toMatchObject({ num: 2 });
      expect(readPredictions(evalDir)).toHaveLength(2);
      expect(server?.calls).toHaveLength(2);
    });
  });
});
