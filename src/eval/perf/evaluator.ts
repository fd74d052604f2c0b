import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PerfEvalSpec } from '../../plan/schema.js';
import { writeJsonAtomic } from '../../util/atomic-write.js';
import { specOf, type Evaluator } from '../evaluator.js';
import type { Endpoint, EvalResult } from '../types.js';
import { runLevel } from './level.js';
import { levelMetrics } from './metrics.js';
import { calibratedPrompt, drawLength, seededRandom, type CountPromptTokens } from './prompts.js';
import { counterChanges, scrapeMetrics, type MetricSamples } from './server-metrics.js';
import type { StreamTarget } from './stream-client.js';
import type { PerfLevel, PerfSummary } from './types.js';

export const PERF_FILE = 'perf.json';
/** Prompts calibrated at once: enough to hide /tokenize's round trips, few enough not to load the server. */
const CALIBRATION_PARALLELISM = 8;

/** The root of the server (vLLM serves /tokenize and /metrics beside /v1). */
export function serverRoot(baseUrl: string): string {
  return baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '');
}

function authHeaders(endpoint: Endpoint): Record<string, string> {
  return endpoint.apiKey ? { authorization: `Bearer ${endpoint.apiKey}` } : {};
}

/** vLLM's `POST /tokenize` with a chat request: the prompt's tokens as the chat endpoint will count them. */
function tokenizeCounter(root: string, endpoint: Endpoint, signal: AbortSignal): CountPromptTokens {
  return async (text) => {
    const response = await fetch(`${root}/tokenize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders(endpoint) },
      body: JSON.stringify({
        model: endpoint.servedModel,
        messages: [{ role: 'user', content: text }],
        add_generation_prompt: true,
      }),
      signal,
    });
    if (!response.ok)
      throw new Error(
        `POST /tokenize answered ${response.status}: the server's tokens are needed to size prompts`,
      );
    const { count } = (await response.json()) as { count?: unknown };
    if (typeof count !== 'number') throw new Error('POST /tokenize answered without a count');
    return count;
  };
}

/** Request bodies for one level: lengths drawn, prompts calibrated a few at a time. */
async function requestBodies(
  spec: PerfEvalSpec,
  endpoint: Endpoint,
  count: number,
  random: () => number,
  countTokens: CountPromptTokens,
): Promise<string[]> {
  const { prompts } = spec;
  const lengths = Array.from({ length: count }, () => ({
    input: drawLength(random, prompts.input_tokens, prompts.range_ratio),
    output: drawLength(random, prompts.output_tokens, prompts.range_ratio),
  }));
  const seeds = lengths.map(() => Math.floor(random() * 2 ** 32));
  const bodies: string[] = new Array<string>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let index = next++; index < count; index = next++) {
      const { input, output } = lengths[index] ?? { input: 1, output: 1 };
      const text = await calibratedPrompt(seededRandom(seeds[index] ?? index), input, countTokens);
      bodies[index] = JSON.stringify({
        model: endpoint.servedModel,
        messages: [{ role: 'user', content: text }],
        max_tokens: output,
        ...(spec.ignore_eos && { ignore_eos: true }),
        stream: true,
        stream_options: { include_usage: true },
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(CALIBRATION_PARALLELISM, count) }, worker));
  return bodies;
}

function concurrencyLevels(spec: PerfEvalSpec): number[] {
  return Array.isArray(spec.concurrency) ? spec.concurrency : [spec.concurrency];
}

function levelLine(level: PerfLevel): string {
  const ms = (value: number | null) => (value === null ? '-' : `${value.toFixed(1)} ms`);
  return (
    `concurrency ${level.max_concurrency}: ${level.completed}/${level.num_prompts} ok, ` +
    `${level.output_throughput.toFixed(1)} tok/s, TTFT p50 ${ms(level.ttft_ms.median)}, ITL p50 ${ms(level.itl_ms.median)}`
  );
}

/** A serving load test: no dataset, the server's own tokens, figures as `vllm bench serve` reports them. */
export const perfEvaluator: Evaluator = {
  backend: 'perf',
  describe(evalSpec) {
    const spec = specOf(evalSpec, 'perf');
    const { prompts } = spec;
    return {
      dataset: 'random prompts',
      metric: 'success_rate',
      lines: [
        `concurrency ${concurrencyLevels(spec).join(', ')}, ${spec.requests} requests per level (${spec.warmup} warm-up), rate ${spec.rate}`,
        `prompts: ${prompts.input_tokens} tokens in, ${prompts.output_tokens} out (range ±${prompts.range_ratio}, seed ${prompts.seed})`,
      ],
    };
  },
  prepare(evalSpec) {
    const spec = specOf(evalSpec, 'perf');
    const widest = (length: number) => Math.floor(length * (1 + spec.prompts.range_ratio));
    return Promise.resolve({
      spec,
      samples: [],
      provenance: { name: `random prompts (seed ${spec.prompts.seed})`, files: [] },
      problems: [],
      requestBudget: {
        longestPromptTokens: widest(spec.prompts.input_tokens),
        maxTokens: widest(spec.prompts.output_tokens),
      },
    });
  },
  async run(prepared, endpoint, ctx) {
    const spec = specOf(prepared.spec, 'perf');
    const started = performance.now();
    const root = serverRoot(endpoint.baseUrl);
    const countTokens = tokenizeCounter(root, endpoint, ctx.signal);
    const random = seededRandom(spec.prompts.seed);
    const rate = spec.rate === 'inf' ? null : spec.rate;
    const levels: PerfLevel[] = [];
    const concurrencies = concurrencyLevels(spec);
    ctx.display.evalStart(spec.name, concurrencies.length * spec.requests);
    let done = 0;
    let ok = 0;
    for (const concurrency of concurrencies) {
      const bodies = await requestBodies(spec, endpoint, spec.warmup + spec.requests, random, countTokens);
      const agentOptions = { keepAlive: true, maxSockets: concurrency };
      const url = new URL(`${endpoint.baseUrl.replace(/\/+$/, '')}/chat/completions`);
      const agent = url.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
      const target: StreamTarget = {
        url,
        agent,
        headers: authHeaders(endpoint),
        timeoutMs: spec.timeout * 1000,
        signal: ctx.signal,
      };
      try {
        if (spec.warmup > 0) {
          const warm = bodies.slice(0, spec.warmup);
          await runLevel(target, { bodies: warm, concurrency, rate: null, random, onDone: () => undefined });
        }
        const before = await scrapeMetrics(root, ctx.signal);
        let busy: Promise<MetricSamples | null> = Promise.resolve(null);
        const measured = await runLevel(target, {
          bodies: bodies.slice(spec.warmup),
          concurrency,
          rate,
          random,
          onDone: (outcome) => ctx.display.evalProgress(++done, outcome.ok ? ++ok : ok),
          onAllSent: () => (busy = scrapeMetrics(root, ctx.signal)),
        });
        const server = counterChanges(before, await busy, await scrapeMetrics(root, ctx.signal));
        const level = levelMetrics({ concurrency, rate, server, ...measured });
        levels.push(level);
        ctx.display.info(`${spec.name}: ${levelLine(level)}`);
      } finally {
        agent.destroy();
      }
    }
    ctx.display.evalEnd();
    return perfResult(spec, endpoint, levels, ctx.evalDir, performance.now() - started);
  },
};

function perfResult(
  spec: PerfEvalSpec,
  endpoint: Endpoint,
  levels: PerfLevel[],
  evalDir: string,
  wallMs: number,
): EvalResult {
  const perf: PerfSummary = {
    input_tokens: spec.prompts.input_tokens,
    output_tokens: spec.prompts.output_tokens,
    levels,
  };
  const file = join(evalDir, PERF_FILE);
  writeJsonAtomic(file, { name: spec.name, model: endpoint.servedModel, settings: spec, ...perf });
  const sum = (pick: (level: PerfLevel) => number) => levels.reduce((total, level) => total + pick(level), 0);
  const num = sum((level) => level.num_prompts);
  const completed = sum((level) => level.completed);
  const promptTokens = sum((level) => level.total_input_tokens);
  const completionTokens = sum((level) => level.total_output_tokens);
  return {
    name: spec.name,
    backend: 'perf',
    dataset: 'random',
    metric: 'success_rate',
    num,
    score: num > 0 ? completed / num : 0,
    // One row per level in the score table: its requests and the share that succeeded.
    subsets: levels.map((level) => ({
      name: `concurrency ${level.max_concurrency}`,
      num: level.num_prompts,
      score: level.num_prompts > 0 ? level.completed / level.num_prompts : 0,
    })),
    truncated: 0,
    errors: num - completed,
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: promptTokens + completionTokens,
    },
    latency_ms: null,
    retries: 0,
    wall_ms: wallMs,
    predictions_file: file,
    perf,
  };
}
