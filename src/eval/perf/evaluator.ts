import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { PerfEvalSpec } from '../../plan/schema.js';
import { writeJsonAtomic } from '../../util/atomic-write.js';
import { specOf, type Evaluator, type PreparedEval } from '../evaluator.js';
import { estimateTokensAtLeast } from '../token-estimate.js';
import type { Endpoint, EvalResult } from '../types.js';
import { runLevel } from './level.js';
import { levelMetrics } from './metrics.js';
import { loadFixedPrompts, type FixedPrompts } from './prompt-sources.js';
import { mulberry32, type CountPromptTokens } from './prompts.js';
import { RequestBodies, randomInputTokens } from './request-bodies.js';
import { counterChanges, scrapeMetrics, type MetricSamples } from './server-metrics.js';
import type { StreamTarget } from './stream-client.js';
import type { PerfLevel, PerfSummary } from './types.js';

export const PERF_FILE = 'perf.json';
/** File and dataset prompts as prepare() read them, for run() to send. */
const fixedPrompts = new WeakMap<PreparedEval, FixedPrompts>();
/** Measured requests per level when the plan gives neither requests nor duration. */
const DEFAULT_REQUESTS = 100;

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
    if (typeof count !== 'number')
      throw new Error(
        "POST /tokenize answered without a count: the server's /tokenize is not vLLM's, so random prompts cannot " +
          'be sized to input_tokens; give prompts.file or prompts.dataset instead (they keep their own length)',
      );
    return count;
  };
}

/** The longest file or dataset prompt, estimated from below, for the check against max_model_len. */
function longestFixedPrompt(fixed: FixedPrompts): number {
  // A list of parts counts its text parts only: images and the like are left out of a lower bound.
  const text = (content: unknown): string =>
    typeof content === 'string'
      ? content
      : Array.isArray(content)
        ? content
            .map((part: { text?: unknown }) => (typeof part?.text === 'string' ? part.text : ''))
            .join('')
        : '';
  return fixed.messages.reduce(
    (longest, messages) =>
      Math.max(longest, estimateTokensAtLeast(messages.map((m) => text(m.content)).join('\n'))),
    0,
  );
}

function requestsPerLevel(spec: PerfEvalSpec): number {
  return spec.requests ?? DEFAULT_REQUESTS;
}

/** The dataset column of the tables. */
function promptsName(spec: PerfEvalSpec): string {
  const { prompts } = spec;
  if (prompts.file !== undefined) return `prompts file ${basename(prompts.file)}`;
  if (prompts.dataset !== undefined) return `${prompts.dataset} questions`;
  return 'random prompts';
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
    const perLevel =
      spec.duration === undefined ? `${requestsPerLevel(spec)} requests` : `${spec.duration} s`;
    return {
      dataset: promptsName(spec),
      metric: 'success_rate',
      lines: [
        `concurrency ${concurrencyLevels(spec).join(', ')}, ${perLevel} per level (${spec.warmup} warm-up), rate ${spec.rate}`,
        `prompts: ${prompts.file === undefined && prompts.dataset === undefined ? `${randomInputTokens(spec)} tokens in, ` : ''}${prompts.output_tokens} out (range ±${prompts.range_ratio}, seed ${prompts.seed})`,
      ],
    };
  },
  async prepare(evalSpec, ctx) {
    const spec = specOf(evalSpec, 'perf');
    const widest = (length: number) => Math.floor(length * (1 + spec.prompts.range_ratio));
    // File and dataset prompts are read now, so that a broken file costs no server time.
    const fixed = await loadFixedPrompts(spec, ctx);
    const prepared: PreparedEval = {
      spec,
      samples: [],
      provenance: fixed?.provenance ?? { name: `random prompts (seed ${spec.prompts.seed})`, files: [] },
      problems: [],
      requestBudget: {
        longestPromptTokens: fixed ? longestFixedPrompt(fixed) : widest(randomInputTokens(spec)),
        maxTokens: widest(spec.prompts.output_tokens),
      },
    };
    if (fixed) fixedPrompts.set(prepared, fixed);
    return prepared;
  },
  async run(prepared, endpoint, ctx) {
    const spec = specOf(prepared.spec, 'perf');
    const started = performance.now();
    const root = serverRoot(endpoint.baseUrl);
    const countTokens = tokenizeCounter(root, endpoint, ctx.signal);
    const random = mulberry32(spec.prompts.seed);
    const rate = spec.rate === 'inf' ? null : spec.rate;
    const levels: PerfLevel[] = [];
    const concurrencies = concurrencyLevels(spec);
    const fixed = fixedPrompts.get(prepared) ?? null;
    const bodies = new RequestBodies({ spec, model: endpoint.servedModel, random, countTokens, fixed });
    const timed = spec.duration !== undefined;
    // A timed level's request count is unknown beforehand: its progress shows as one line per level instead.
    if (!timed) ctx.display.evalStart(spec.name, concurrencies.length * requestsPerLevel(spec));
    let done = 0;
    let ok = 0;
    // undici is loaded here, not with the evaluator: checking a plan never needs it.
    const { Connections } = await import('./connections.js');
    for (const concurrency of concurrencies) {
      const warm = await bodies.counted(spec.warmup);
      const measuredBodies = timed
        ? await bodies.endless(concurrency)
        : (await bodies.counted(requestsPerLevel(spec))).values();
      const url = new URL(`${endpoint.baseUrl.replace(/\/+$/, '')}/chat/completions`);
      const connections = new Connections(url, authHeaders(endpoint), concurrency);
      const target: StreamTarget = { connections, timeoutMs: spec.timeout * 1000, signal: ctx.signal };
      try {
        if (warm.length > 0) {
          const load = { concurrency, rate: null, random, sendForS: null, onDone: () => undefined };
          await runLevel(target, { ...load, bodies: warm.values() });
        }
        if (timed)
          ctx.display.info(`${spec.name}: concurrency ${concurrency}, sending for ${spec.duration} s`);
        const before = await scrapeMetrics(root, ctx.signal);
        let busy: Promise<MetricSamples | null> = Promise.resolve(null);
        const measured = await runLevel(target, {
          bodies: measuredBodies,
          sendForS: spec.duration ?? null,
          concurrency,
          rate,
          random,
          onDone: (outcome) => {
            if (outcome.ok) ok += 1;
            done += 1;
            if (!timed) ctx.display.evalProgress(done, ok);
          },
          onAllSent: () => (busy = scrapeMetrics(root, ctx.signal)),
        });
        const server = counterChanges(before, await busy, await scrapeMetrics(root, ctx.signal));
        const level = levelMetrics({ concurrency, rate, server, ...measured });
        levels.push(level);
        ctx.display.info(`${spec.name}: ${levelLine(level)}`);
      } finally {
        await connections.close();
      }
    }
    if (!timed) ctx.display.evalEnd();
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
    input_tokens:
      spec.prompts.file === undefined && spec.prompts.dataset === undefined ? randomInputTokens(spec) : null,
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
    dataset: promptsName(spec),
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
