/**
 * Whether `backend: perf` measures what the server does, against the simulator whose timing is known exactly.
 * - TTFT and ITL medians at concurrency 1, 16 and 64 (below --max-num-seqs, so nothing queues), each within 2 %
 *   or 1 ms (whichever is wider) of VLLM_SIM_TTFT_MS and VLLM_SIM_TOKEN_LATENCY_MS. TTFT includes the HTTP round
 *   trip, as vLLM's own does: 1–5 ms on two cores shared with the simulator and other work, so the TTFT is set to
 *   250 ms, where 2 % is 5 ms. For the simulator to be a fixed point, it counts TTFT from the moment it read the
 *   request (not from its next scheduler tick) and runs a tick that is due at once on the next turn of its event
 *   loop rather than a 1 ms timer; a level's first burst of requests, read one by one, is diluted by sending
 *   at least four times its concurrency.
 * - Output throughput at a concurrency above capacity, within 2 % of the simulator's ceiling. The simulator runs
 *   at most S = --max-num-seqs sequences; each holds its slot from admission to its last token, TTFT + (N − 1) ×
 *   token latency for N output tokens (ignore_eos: exactly N), and a finished slot is refilled at once. So S
 *   sequences finish every TTFT + (N − 1) × latency, and the ceiling is S × N / (TTFT + (N − 1) × latency) tok/s.
 * - The client's own ceiling: short streamed requests (4 tokens, no simulated latency) at concurrency 32 as fast
 *   as they go, in requests per second, over what `autocannon` drives against the same endpoint with the same
 *   body without parsing the stream (target ≥ 0.8); the best of five turns each, since other work on the
 *   machine only ever lowers a ceiling. Both share this machine's cores with the simulator, which is Node too
 *   and usually the tighter limit: the less CPU a client takes, the more the simulator gets. The client
 *   measured is the compiled one in dist/, as `evalrig` runs it. Each one's CPU time per request is printed too
 *   (both keep their connections alive; evalrig's go through undici's Pool.dispatch, and it also reads every
 *   chunk of the stream and times it). The same load through the `openai` client is printed for comparison
 *   (docs/perf.md).
 *
 *   npm run bench perf-accuracy
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import OpenAI from 'openai';
import { perfEvaluator } from '../src/eval/perf/evaluator.js';
import type { PerfLevel, PerfSummary } from '../src/eval/perf/types.js';
import type { EvalContext } from '../src/eval/evaluator.js';
import { PlanSchema, type Plan } from '../src/plan/schema.js';
import { startLocalServer } from '../src/server/local/start.js';
import { waitUntilReady } from '../src/server/readiness/wait-until-ready.js';
import { silentDisplay } from '../src/util/display.js';
import { findFreePort } from '../src/util/ports.js';
import { reportFigures, type Figure } from './_figures.js';

const TTFT_MS = 250;
const TOKEN_LATENCY_MS = 20;
const OUTPUT_TOKENS = 16;
const CAPACITY = 8;
const ABOVE_CAPACITY = 32;
const CEILING_CONCURRENCY = 32;
const CEILING_REQUESTS = 2000;
const CEILING_ROUNDS = 5;
const CEILING_SECONDS = 2;
/** The openai client is several times slower: fewer requests measure it as well. */
const OPENAI_REQUESTS = 1000;
const TOLERANCE = 0.02;
/** Output lengths spread over 8–24 tokens, so that requests finish, and new ones arrive, at different moments. */
const PROMPTS = { input_tokens: 64, output_tokens: OUTPUT_TOKENS, range_ratio: 0.5 };
const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'evalrig-perf-bench-'));

interface Sim {
  baseUrl: string;
  servedModel: string;
  stop(): Promise<void>;
}

async function startSim(name: string, maxNumSeqs: number, env: Record<string, string>): Promise<Sim> {
  const plan: Plan = PlanSchema.parse({
    name,
    server: {
      model: `/models/${name}`,
      served_model_name: name,
      extra_args: ['--max-num-seqs', String(maxNumSeqs)],
      env: { VLLM_SIM_LOAD_TIME: '0.3', ...env },
    },
    evals: [{ name: 'load', backend: 'perf' }],
  });
  const port = await findFreePort('127.0.0.1');
  const handle = await startLocalServer({ ...plan.server, executable: join(root, 'sim/bin/vllm') }, port, {
    runId: name,
    runDir: work,
    logFile: join(work, `${name}.log`),
    planDir: root,
    maskLine: (line) => line,
  });
  await waitUntilReady(handle, { timeoutMs: 30_000 });
  return {
    baseUrl: handle.baseUrl,
    servedModel: name,
    stop: async () => void (await handle.stop({ graceMs: 5_000 })),
  };
}

/** The levels of one perf evaluation, run as a plan would run it. */
async function perfRun(sim: Sim, name: string, evalFields: Record<string, unknown>): Promise<PerfLevel[]> {
  const plan = PlanSchema.parse({
    name,
    server: { model: '/models/bench' },
    evals: [{ name, backend: 'perf', ...evalFields }],
  });
  const spec = plan.evals[0];
  if (!spec) throw new Error('no evaluation in the plan');
  const evalDir = join(work, name);
  mkdirSync(evalDir, { recursive: true });
  const ctx: EvalContext = {
    runDir: work,
    evalDir,
    signal: new AbortController().signal,
    display: silentDisplay,
    mask: (text) => text,
  };
  const prepared = await perfEvaluator.prepare(spec, {
    planDir: root,
    datasets: plan.datasets,
    signal: ctx.signal,
    display: silentDisplay,
  });
  const endpoint = { baseUrl: `${sim.baseUrl}/v1`, servedModel: sim.servedModel };
  const result = await perfEvaluator.run(prepared, endpoint, ctx);
  const perf: PerfSummary | undefined = result.perf;
  if (!perf) throw new Error('the perf evaluation returned no levels');
  for (const level of perf.levels) {
    if (level.failed > 0) throw new Error(`${name}: ${JSON.stringify(level.failures)}`);
  }
  return perf.levels;
}

/** A figure for a measured value that must lie within 2 % (or 1 ms) of the expected one. */
function closeTo(name: string, measured: number | null, expected: number, unit: string): Figure {
  const allowed = Math.max(expected * TOLERANCE, unit === ' ms' ? 1 : 0);
  const deviation = measured === null ? Infinity : Math.abs(measured - expected);
  console.log(`${name}: measured ${measured?.toFixed(2) ?? '-'}${unit}, configured ${expected}${unit}`);
  return {
    name: `${name} deviation`,
    value: deviation,
    unit,
    target: Number(allowed.toFixed(3)),
    kind: 'max',
  };
}

const figures: Figure[] = [];

// Latency accuracy: nothing queues (capacity 64), so TTFT and ITL are the simulator's settings exactly.
const timed = await startSim('timed', 64, {
  VLLM_SIM_TTFT_MS: String(TTFT_MS),
  VLLM_SIM_TOKEN_LATENCY_MS: String(TOKEN_LATENCY_MS),
});
try {
  // Each level opens with every request sent at once, a burst the server reads one by one; enough requests
  // after it that the medians describe the steady state, as with vllm bench serve's --num-prompts.
  const levels = [
    ...(await perfRun(timed, 'latency-1', { concurrency: 1, requests: 24, warmup: 2, prompts: PROMPTS })),
    ...(await perfRun(timed, 'latency-16-64', {
      concurrency: [16, 64],
      requests: 256,
      warmup: 64,
      prompts: PROMPTS,
    })),
  ];
  for (const level of levels) {
    const c = level.max_concurrency;
    figures.push(closeTo(`ttft p50 at concurrency ${c}`, level.ttft_ms.median, TTFT_MS, ' ms'));
    figures.push(closeTo(`itl p50 at concurrency ${c}`, level.itl_ms.median, TOKEN_LATENCY_MS, ' ms'));
  }
} finally {
  await timed.stop();
}

// Throughput ceiling: more requests in flight than the simulator runs at once.
const bounded = await startSim('bounded', CAPACITY, {
  VLLM_SIM_TTFT_MS: String(TTFT_MS),
  VLLM_SIM_TOKEN_LATENCY_MS: String(TOKEN_LATENCY_MS),
});
try {
  const [level] = await perfRun(bounded, 'capacity', {
    concurrency: ABOVE_CAPACITY,
    requests: CAPACITY * 8,
    // Equal lengths: every wave of CAPACITY sequences takes one cycle exactly.
    prompts: { ...PROMPTS, range_ratio: 0 },
  });
  const cycleS = (TTFT_MS + (OUTPUT_TOKENS - 1) * TOKEN_LATENCY_MS) / 1000;
  const ceiling = (CAPACITY * OUTPUT_TOKENS) / cycleS;
  const measured = level?.output_throughput ?? null;
  console.log(
    `output throughput at concurrency ${ABOVE_CAPACITY}, capacity ${CAPACITY}: ${measured?.toFixed(1) ?? '-'} tok/s, ceiling ${ceiling.toFixed(1)} tok/s`,
  );
  const ratio = measured === null ? 0 : measured / ceiling;
  figures.push({
    name: 'output throughput / ceiling deviation',
    value: Math.abs(1 - ratio),
    unit: '',
    target: TOLERANCE,
    kind: 'max',
  });
} finally {
  await bounded.stop();
}

// The client's own ceiling, against autocannon on the same endpoint and body.
const fast = await startSim('fast', 256, { VLLM_SIM_TTFT_MS: '0', VLLM_SIM_TOKEN_LATENCY_MS: '0' });
try {
  const body = JSON.stringify({
    model: 'fast',
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 4,
    ignore_eos: true,
    stream: true,
    stream_options: { include_usage: true },
  });
  const url = new URL(`${fast.baseUrl}/v1/chat/completions`);
  // The compiled client, as `evalrig` runs it (tsx's transpiled copy carries helpers of its own).
  const compiled = join(root, 'dist/src/eval/perf/level.js');
  const { runLevel } = (await import(compiled)) as typeof import('../src/eval/perf/level.js');
  const { Connections } = (await import(
    join(root, 'dist/src/eval/perf/connections.js')
  )) as typeof import('../src/eval/perf/connections.js');
  const ours = async (): Promise<number> => {
    const connections = new Connections(url, {}, CEILING_CONCURRENCY);
    try {
      const run = await runLevel(
        { connections, timeoutMs: 30_000, signal: new AbortController().signal },
        {
          bodies: Array.from({ length: CEILING_REQUESTS }, () => body).values(),
          sendForS: null,
          concurrency: CEILING_CONCURRENCY,
          rate: null,
          random: Math.random,
          onDone: () => undefined,
        },
      );
      const failed = run.outcomes.filter((outcome) => !outcome.ok).length;
      if (failed > 0) throw new Error(`${failed} of the client's requests failed`);
      return run.outcomes.length / run.durationS;
    } finally {
      await connections.close();
    }
  };
  let cannonRequests = 0;
  const theirs = async (): Promise<number> => {
    const result = await autocannon({
      url: url.href,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
      connections: CEILING_CONCURRENCY,
      // For a time rather than a count: with `amount` it notices the end only on its one-second ticker.
      duration: CEILING_SECONDS,
    });
    if (result.non2xx > 0 || result.errors > 0) throw new Error('autocannon saw failed requests');
    cannonRequests += result.requests.total;
    return result.requests.total / result.duration;
  };
  const viaOpenai = async (): Promise<number> => {
    const client = new OpenAI({ baseURL: `${fast.baseUrl}/v1`, apiKey: 'none', maxRetries: 0 });
    let next = 0;
    let chunks = 0;
    const started = performance.now();
    const worker = async (): Promise<void> => {
      while (next++ < OPENAI_REQUESTS) {
        const stream = await client.chat.completions.create({
          model: 'fast',
          messages: [{ role: 'user', content: 'hi' }],
          max_tokens: 4,
          stream: true,
          stream_options: { include_usage: true },
        });
        for await (const chunk of stream) chunks += chunk.choices.length > 0 ? 1 : 0;
      }
    };
    await Promise.all(Array.from({ length: CEILING_CONCURRENCY }, worker));
    if (chunks < OPENAI_REQUESTS) throw new Error('the openai client read fewer chunks than requests');
    return OPENAI_REQUESTS / ((performance.now() - started) / 1000);
  };
  await ours(); // warms the simulator's and the client's code paths
  // Best of three, taken in turns: a ceiling is what a tool reaches when the machine's other work lets it.
  let client = 0;
  let cannon = 0;
  const cpuMicros = { client: 0, cannon: 0 };
  /** The rate `run` reports; the process's CPU time over the run goes to `spent`. */
  const measure = async (run: () => Promise<number>, spent: 'client' | 'cannon'): Promise<number> => {
    const before = process.cpuUsage();
    const rate = await run();
    const { user, system } = process.cpuUsage(before);
    cpuMicros[spent] += user + system;
    return rate;
  };
  for (let round = 0; round < CEILING_ROUNDS; round += 1) {
    client = Math.max(client, await measure(ours, 'client'));
    cannon = Math.max(cannon, await measure(theirs, 'cannon'));
  }
  const openai = await viaOpenai();
  console.log(
    `short streamed requests at concurrency ${CEILING_CONCURRENCY}: evalrig ${client.toFixed(0)}/s, autocannon ${cannon.toFixed(0)}/s, openai client ${openai.toFixed(0)}/s`,
  );
  const perRequest = (micros: number, count: number) => (micros / Math.max(1, count)).toFixed(0);
  console.log(
    `client CPU per request: evalrig ${perRequest(cpuMicros.client, CEILING_ROUNDS * CEILING_REQUESTS)} µs, autocannon ${perRequest(cpuMicros.cannon, cannonRequests)} µs`,
  );
  figures.push({
    name: 'client ceiling / autocannon',
    value: client / cannon,
    unit: '',
    target: 0.8,
    kind: 'min',
  });
} finally {
  await fast.stop();
}

reportFigures(figures);
