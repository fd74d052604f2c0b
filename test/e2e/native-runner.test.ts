import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadIquiz } from '../../src/datasets/iquiz.js';
import type { Sample } from '../../src/datasets/types.js';
import { runNative, type NativeRunContext } from '../../src/eval/native/runner.js';
import { ServerUnresponsiveError } from '../../src/eval/errors.js';
import type { EvalResult, PredictionRecord } from '../../src/eval/types.js';
import { NativeEvalSchema } from '../../src/plan/schema.js';
import { killAllSims, SIM_MAIN, startReadySim, tempDir, type SimHandle } from '../sim/helpers.js';
import { PREDICTION_FIELDS } from './cli-helpers.js';
import { DEMO_QUIZ } from '../paths.js';
import { nativeTaskOf } from '../../src/eval/native/evaluator.js';

// The native evaluator against the vLLM simulator (a real HTTP server in its own process),
// on the bundled demo quiz whose answer key the simulator is given.

const SERVED_MODEL = 'demo-model';

let samples: Sample[];

beforeAll(async () => {
  if (!existsSync(SIM_MAIN)) throw new Error(`${SIM_MAIN} is missing: run \`npm run build\` first`);
  samples = (await loadIquiz(DEMO_QUIZ, {})).samples;
  expect(samples).toHaveLength(40);
});

afterAll(killAllSims);

interface SimSetup {
  version?: string;
  /** Extra `vllm serve` arguments, e.g. a reasoning parser. */
  args?: string[];
  env?: Record<string, string>;
}

function startQuizSim({ version = '0.17.1', args = [], env = {} }: SimSetup = {}): Promise<SimHandle> {
  return startReadySim({
    args: ['--served-model-name', SERVED_MODEL, ...args],
    env: { VLLM_SIM_VERSION: version, VLLM_SIM_ANSWER_KEY: DEMO_QUIZ, VLLM_SIM_ACCURACY: '1', ...env },
  });
}

interface QuizRun {
  result: EvalResult;
  records: PredictionRecord[];
  evalDir: string;
}

async function runQuiz(
  sim: SimHandle,
  settings: { concurrency?: number; generation?: Record<string, unknown> } = {},
  ctx: Partial<NativeRunContext> = {},
): Promise<QuizRun> {
  const spec = NativeEvalSchema.parse({
    name: 'demo',
    backend: 'native',
    dataset: 'iquiz',
    dataset_path: DEMO_QUIZ,
    concurrency: settings.concurrency ?? 8,
    generation: settings.generation ?? {},
  });
  const evalDir = ctx.evalDir ?? tempDir('evalrig-native-');
  const result = await runNative(
    nativeTaskOf(spec),
    samples,
    { baseUrl: `${sim.baseUrl}/v1`, servedModel: SERVED_MODEL },
    { signal: new AbortController().signal, ...ctx, evalDir },
  );
  return { result, records: await readPredictions(evalDir), evalDir };
}

async function readPredictions(evalDir: string): Promise<PredictionRecord[]> {
  const text = await readFile(path.join(evalDir, 'predictions.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as PredictionRecord);
}

describe('runNative against the simulator', () => {
  describe('a model that always answers right (vLLM 0.17.1, qwen3 parser)', () => {
    let sim: SimHandle;
    beforeAll(async () => {
      sim = await startQuizSim({ args: ['--reasoning-parser', 'qwen3'] });
    });

    it('scores 1.0 and writes one complete prediction line per sample, and result.json', async () => {
      const progress: number[] = [];
      const { result, records, evalDir } = await runQuiz(
        sim,
        {},
        { onProgress: ({ done }) => progress.push(done) },
      );

      expect(result).toMatchObject({
        name: 'demo',
        backend: 'native',
        dataset: 'iquiz',
        metric: 'mean_acc',
        num: 40,
        score: 1,
        subsets: [
          { name: 'IQ', num: 16, score: 1 },
          { name: 'EQ', num: 24, score: 1 },
        ],
        errors: 0,
        truncated: 0,
        predictions_file: path.join(evalDir, 'predictions.jsonl'),
      });
      expect(result.usage.prompt_tokens).toBeGreaterThan(0);
      expect(result.usage.total_tokens).toBe(result.usage.prompt_tokens + result.usage.completion_tokens);
      expect(result.latency_ms?.p50).toBeGreaterThan(0);
      expect(result.wall_ms).toBeGreaterThan(0);

      expect(records).toHaveLength(40);
      expect(new Set(records.map((record) => record.id))).toEqual(
        new Set(samples.map((sample) => sample.id)),
      );
      for (const record of records) {
        expect(Object.keys(record).sort()).toEqual([...PREDICTION_FIELDS].sort());
        expect(record).toMatchObject({
          correct: true,
          finish_reason: 'stop',
          error: null,
          error_kind: null,
          ttft_ms: null,
          attempts: 1,
        });
        expect(record.extracted).toBe(record.gold);
        expect(record.prompt).toContain('问题：');
      }
      expect(progress).toEqual(Array.from({ length: 40 }, (_, index) => index + 1));

      const onDisk = JSON.parse(await readFile(path.join(evalDir, 'result.json'), 'utf8')) as EvalResult;
      expect(onDisk).toEqual(result);
    });

    it('streams with usage and time to first token', async () => {
      const { result, records } = await runQuiz(sim, { generation: { stream: true } });
      expect(result).toMatchObject({ num: 40, score: 1, errors: 0 });
      expect(result.usage.completion_tokens).toBeGreaterThan(0);
      for (const record of records) {
        expect(record.ttft_ms).not.toBeNull();
        expect(record.ttft_ms).toBeLessThanOrEqual(record.latency_ms);
        expect(record.usage?.completion_tokens).toBeGreaterThan(0);
        expect(record.reasoning).not.toBeNull();
      }
    });

    it('counts an answer cut off by max_tokens as truncated and wrong', async () => {
      for (const stream of [false, true]) {
        const { result, records } = await runQuiz(sim, { generation: { max_tokens: 8, stream } });
        expect(result).toMatchObject({ num: 40, score: 0, truncated: 40, errors: 0 });
        for (const record of records) {
          expect(record).toMatchObject({
            finish_reason: 'length',
            truncated: true,
            content: null,
            extracted: null,
          });
          expect(record.reasoning).toBeTruthy();
        }
      }
    });
  });

  it.each([
    { accuracy: 0, expected: 0 },
    { accuracy: 0.5, expected: 0.5 },
  ])('scores near the accuracy the simulator is set to ($accuracy)', async ({ accuracy, expected }) => {
    const sim = await startQuizSim({ env: { VLLM_SIM_ACCURACY: String(accuracy) } });
    const { result } = await runQuiz(sim, { generation: { stream: true } });
    expect(result.num).toBe(40);
    expect(result.errors).toBe(0);
    expect(Math.abs(result.score - expected)).toBeLessThanOrEqual(0.2);
  });

  it.each([
    {
      version: '0.8.5',
      args: ['--enable-reasoning', '--reasoning-parser', 'deepseek_r1'],
      field: 'reasoning_content',
    },
    { version: '0.11.1', args: ['--reasoning-parser', 'qwen3'], field: 'reasoning and reasoning_content' },
    { version: '0.17.1', args: ['--reasoning-parser', 'qwen3'], field: 'reasoning' },
    { version: '0.17.1', args: [], field: 'inline <think> in content' },
  ])('finds the answer and the reasoning on vLLM $version ($field)', async ({ version, args }) => {
    const sim = await startQuizSim({ version, args });
    for (const stream of [false, true]) {
      const { result, records } = await runQuiz(sim, { generation: { stream } });
      expect(result, `stream: ${stream}`).toMatchObject({ num: 40, score: 1, errors: 0, truncated: 0 });
      for (const record of records) {
        expect(record.reasoning).toBeTruthy();
        expect(record.content).not.toMatch(/<\/?think>/);
        expect(record.reasoning).not.toMatch(/<\/?think>/);
        // Reasoning sent under both names (0.11.1 to 0.15.x) must appear once.
        const reasoning = record.reasoning ?? '';
        expect(reasoning.split(reasoning.slice(0, 30)).length - 1).toBe(1);
      }
    }
  });

  // vLLM up to 0.10.0 sends its error fields at the top level of the body, later ones under `error`.
  it.each(['0.8.5', '0.17.1'])(
    'records a request that failed after retries as an error with status and body (vLLM %s), counts it wrong and goes on',
    async (version) => {
      const sim = await startQuizSim({ version, env: { VLLM_SIM_FAULT: 'http_error:500@0.3' } });
      const { result, records } = await runQuiz(sim, { generation: { retries: 0 } });
      expect(result.num).toBe(40);
      expect(records).toHaveLength(40);
      const failed = records.filter((record) => record.error !== null);
      expect(failed.length).toBe(result.errors);
      expect(result.errors).toBeGreaterThan(0);
      expect(result.errors).toBeLessThan(40);
      expect(result.score).toBeCloseTo((40 - result.errors) / 40, 10);
      for (const record of failed) {
        expect(record.error).toMatch(/^HTTP 500: \{.*"message":"Simulated HTTP 500/);
        expect(record).toMatchObject({
          correct: false,
          content: null,
          extracted: null,
          usage: null,
          error_kind: 'transient',
          attempts: 1,
        });
      }
    },
  );

  it('retries failed requests as the plan says', async () => {
    const sim = await startQuizSim({ env: { VLLM_SIM_FAULT: 'http_error:503x2' } });
    const { result, records } = await runQuiz(sim, { concurrency: 1, generation: { retries: 2 } });
    expect(result).toMatchObject({ num: 40, score: 1, errors: 0, retries: 2 });
    expect(records[0]?.attempts).toBe(3);
  });

  describe('faults', () => {
    it('does not retry a request over the context length (a permanent error), and goes on', async () => {
      const sim = await startQuizSim({ args: ['--max-model-len', '1024'] });
      const { result, records } = await runQuiz(sim, { generation: { max_tokens: 2000, retries: 2 } });
      expect(result).toMatchObject({ num: 40, score: 0, errors: 40, retries: 0 });
      for (const record of records) {
        expect(record).toMatchObject({ error_kind: 'permanent', attempts: 1 });
        expect(record.error).toMatch(/^HTTP 400: .*context length is (only )?1024 tokens/);
      }
    });

    it('stops when the engine dies, and a resumed run on a new server counts every sample exactly once', async () => {
      const dying = await startQuizSim({ env: { VLLM_SIM_FAULT: 'crash_after:10' } });
      const evalDir = tempDir('evalrig-native-');
      const generation = { retries: 1, max_consecutive_failures: 4 };
      const stopped = runQuiz(dying, { concurrency: 4, generation }, { evalDir });
      await expect(stopped).rejects.toBeInstanceOf(ServerUnresponsiveError);
      await expect(stopped).rejects.toThrow(/^vLLM stopped answering: 4 requests in a row failed/);
      const before = await readPredictions(evalDir);
      expect(before.filter((record) => record.error === null)).toHaveLength(10);
      expect(before.filter((record) => record.error_kind === 'transient').length).toBeGreaterThanOrEqual(4);

      const healthy = await startQuizSim();
      const { result, records } = await runQuiz(
        healthy,
        { concurrency: 4, generation },
        { evalDir, resume: true },
      );
      expect(result).toMatchObject({ num: 40, score: 1, errors: 0, resumed: 10 });
      expect(result.subsets).toEqual([
        { name: 'IQ', num: 16, score: 1 },
        { name: 'EQ', num: 24, score: 1 },
      ]);
      const answered = records.filter((record) => record.error === null).map((record) => record.id);
      expect(answered).toHaveLength(40);
      expect(new Set(answered)).toEqual(new Set(samples.map((sample) => sample.id)));
    });

    it('stops when the engine is wedged (hang_after), after max_consecutive_failures stalls in a row', async () => {
      const sim = await startQuizSim({ env: { VLLM_SIM_FAULT: 'hang_after:5' } });
      const evalDir = tempDir('evalrig-native-');
      const run = runQuiz(sim, { generation: { timeout: 0.5, retries: 1 } }, { evalDir });
      await expect(run).rejects.toThrow(/^vLLM stopped answering: 10 requests in a row failed/);
      const records = await readPredictions(evalDir);
      expect(records.filter((record) => record.error === null)).toHaveLength(5);
      const failed = records.filter((record) => record.error !== null);
      expect(failed.length).toBeGreaterThanOrEqual(10);
      for (const record of failed)
        expect(record).toMatchObject({
          error: 'no response within 0.5s (generation.timeout)',
          error_kind: 'transient',
          attempts: 2,
        });
    });

    it.each([
      { fault: 'break_stream:0.1', what: 'cut off' },
      { fault: 'stall_stream:0.1', what: 'stalled' },
    ])('asks again a streamed answer $what halfway, until every sample is answered', async ({ fault }) => {
      // Tokens must arrive one after another for an answer to be cut halfway.
      const sim = await startQuizSim({
        args: ['--reasoning-parser', 'qwen3'],
        env: { VLLM_SIM_FAULT: fault, VLLM_SIM_TOKEN_LATENCY_MS: '5' },
      });
      const { result, records } = await runQuiz(sim, {
        generation: { stream: true, timeout: 0.5, retries: 5 },
      });
      expect(result).toMatchObject({ num: 40, score: 1, errors: 0 });
      expect(result.retries).toBeGreaterThan(0);
      expect(records.reduce((sum, record) => sum + record.attempts - 1, 0)).toBe(result.retries);
    });

    it('lets a streamed answer whose tokens keep flowing run past `timeout`, but not past max_request_time', async () => {
      // About 60 tokens at 20 ms each: some 1.2 s per answer, in a steady flow.
      const sim = await startQuizSim({
        args: ['--reasoning-parser', 'qwen3'],
        env: { VLLM_SIM_TOKEN_LATENCY_MS: '20', VLLM_SIM_REASONING_TOKENS: '40' },
      });
      const flowing = await runQuiz(sim, { concurrency: 20, generation: { stream: true, timeout: 0.5 } });
      expect(flowing.result).toMatchObject({ num: 40, score: 1, errors: 0 });
      expect(Math.min(...flowing.records.map((record) => record.latency_ms))).toBeGreaterThan(1000);

      const capped = await runQuiz(sim, {
        concurrency: 20,
        generation: { stream: true, timeout: 0.5, max_request_time: 0.6 },
      });
      expect(capped.result).toMatchObject({ num: 40, errors: 40, retries: 0 });
      for (const record of capped.records)
        expect(record).toMatchObject({
          error: 'still answering after 0.6s (generation.max_request_time)',
          error_kind: 'permanent',
          attempts: 1,
        });
    });
  });

  it('stops promptly when aborted, keeping the predictions of the samples that finished', async () => {
    const sim = await startQuizSim({ env: { VLLM_SIM_TOKEN_LATENCY_MS: '20' } });
    const abort = new AbortController();
    const evalDir = tempDir('evalrig-native-');
    const spec = NativeEvalSchema.parse({
      name: 'demo',
      backend: 'native',
      dataset: 'iquiz',
      dataset_path: DEMO_QUIZ,
      concurrency: 4,
      generation: { stream: true },
    });
    const run = runNative(
      nativeTaskOf(spec),
      samples,
      { baseUrl: `${sim.baseUrl}/v1`, servedModel: SERVED_MODEL },
      {
        evalDir,
        signal: abort.signal,
        onProgress: ({ done }) => {
          if (done !== 3) return;
          abort.abort();
        },
      },
    );

    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    // Requests in flight at the abort (the fourth of the first four, and the ones started as the first three
    // finished) must be cut, not awaited: awaited, they would finish and be recorded.
    const records = await readPredictions(evalDir);
    expect(records.length).toBeGreaterThanOrEqual(3);
    expect(records.length).toBeLessThanOrEqual(4);
    expect(existsSync(path.join(evalDir, 'result.json'))).toBe(false);
  });
});
