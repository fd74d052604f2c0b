/**
 * evalrig's own time around vLLM, against the simulator (every figure is a rented GPU idling):
 * - eval-overhead ratio c16 / c64: wall time of an evaluation at concurrency 16 (256 samples) and 64 (1024
 *   samples) over the ideal ceil(N / C) × latency, with every request taking a fixed 250 ms (target ≤ 1.02). Each
 *   level first sends 2 × C requests to warm the server and the client code up, then the same samples through the
 *   openai client alone (the requests evalrig builds, nothing else): the gap between evalrig and that bare client
 *   is evalrig's own share (`over the bare client`, target ≤ 1.02); the rest is the client's and the simulator's.
 *   For scale, this machine's floor for the same waves: bench/_floor-server.ts (a bare node:http server answering
 *   after exactly 250 ms, its own process) asked through undici's `request`; printed, not judged.
 * - readiness lag: from the moment the simulator's port accepts connections to our readiness decision (/health,
 *   /v1/models, /version), median of 3 starts (target ≤ 25 ms). The moment the port opens is taken by an
 *   independent TCP probe every 2 ms.
 * - teardown after exit: from the moment the server's process group is gone (an independent `kill(-pgid, 0)`
 *   every 1 ms answers ESRCH) to `stop()` resolving, median of the same 3 starts (target ≤ 200 ms). The observer
 *   is itself up to a millisecond late: a stop that resolves first counts as 0.
 * - demo own time: `node dist/cli/cli.js plan configs/demo.yaml`, whole process wall time minus the server's own
 *   time and the evaluation's request time, both from the run's manifest.json: the `ready` phase (spawn until
 *   the server answers; it also holds our readiness lag, bounded above) and the evaluation's `wall_ms` (first
 *   request sent to last answer). What is left is evalrig's: module loading, plan, version detection,
 *   preflight, dataset loading, the gaps between phases, teardown, history and reports, process exit. Run once to
 *   fill the caches (version detection, page cache), then three times: the median is the figure (target ≤ 300 ms).
 * - start-up: the lines of bench/startup.ts (`--help`, `validate`, `plan --dry-run`), for the share of module
 *   loading in the figure above.
 */
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runNative } from '../src/eval/native/runner.js';
import type { Sample } from '../src/datasets/types.js';
import type { Manifest } from '../src/run/manifest.js';
import { PlanSchema, type ServerSpec } from '../src/plan/schema.js';
import { startLocalServer } from '../src/server/local/start.js';
import type { ServerHandle } from '../src/server/runtime.js';
import { findFreePort } from '../src/util/ports.js';
import { waitUntilReady } from '../src/server/readiness/wait-until-ready.js';
import { reportFigures, type Figure } from './_figures.js';
import { startupFigures } from './_startup.js';
import { nativeTaskOf } from '../src/eval/native/evaluator.js';
import { renderPrompt } from '../src/eval/native/prompt.js';
import { buildChatRequest, createClient } from '../src/eval/native/request.js';
import type { GenerationSettings } from '../src/plan/schema.js';
import { specOf } from '../src/eval/evaluator.js';
import { request } from 'undici';

const LATENCY_MS = 250;
const LEVELS = [
  { concurrency: 16, samples: 256 },
  { concurrency: 64, samples: 1024 },
];
const STARTS = 3;
/** Demo runs after the first: their median is the figure (one run moves by tens of ms on a shared machine). */
const DEMO_RUNS = 3;
const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'evalrig-bench-'));

const samples: Sample[] = Array.from({ length: Math.max(...LEVELS.map((l) => l.samples)) }, (_, i) => ({
  id: `B-${i}`,
  subset: i % 2 ? 'IQ' : 'EQ',
  question: `基准测试问题 ${i}：${i} 加 1 等于几？`,
  choices: [String(i + 1), String(i + 2), String(i)],
  answer: 'A',
  meta: {},
}));
writeFileSync(
  join(work, 'key.jsonl'),
  samples.map((s) => JSON.stringify({ question: s.question, answer: s.answer })).join('\n') + '\n',
);

function benchServer(loadTimeS: number): ServerSpec {
  const plan = PlanSchema.parse({
    name: 'bench',
    server: {
      model: '/models/bench',
      served_model_name: 'bench',
      extra_args: ['--max-num-seqs', '256'],
      env: {
        VLLM_SIM_LOAD_TIME: String(loadTimeS),
        // The whole latency in the time to first token, so every request takes the same time whatever its length.
        VLLM_SIM_TTFT_MS: String(LATENCY_MS),
        VLLM_SIM_TOKEN_LATENCY_MS: '0',
        VLLM_SIM_ANSWER_KEY: join(work, 'key.jsonl'),
      },
    },
    evals: [{ name: 'bench', backend: 'native', dataset: 'iquiz', dataset_path: work }],
  });
  return { ...plan.server, executable: join(root, 'sim/bin/vllm') };
}

async function start(server: ServerSpec, name: string): Promise<{ handle: ServerHandle; port: number }> {
  const port = await findFreePort('127.0.0.1');
  const handle = await startLocalServer(server, port, {
    runId: name,
    runDir: work,
    logFile: join(work, `${name}.log`),
    planDir: root,
    maskLine: (l) => l,
  });
  return { handle, port };
}

/** The first moment the port accepts a TCP connection, probed every 2 ms. */
async function portOpenedAt(port: number): Promise<number> {
  for (;;) {
    const opened = await new Promise<boolean>((done) => {
      const socket = connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        done(true);
      });
      socket.once('error', () => done(false));
    });
    if (opened) return performance.now();
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** The first moment no process of the group is left, asked every 1 ms. */
function groupGoneAt(pgid: number): Promise<number> {
  return new Promise((resolveGone) => {
    const timer = setInterval(() => {
      try {
        process.kill(-pgid, 0);
      } catch {
        clearInterval(timer);
        resolveGone(performance.now());
      }
    }, 1);
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

/** Readiness lag and teardown lag of one short-lived server. */
async function startAndStop(index: number): Promise<{ readinessLag: number; teardownLag: number }> {
  const { handle, port } = await start(benchServer(0.5), `lag-${index}`);
  const opened = portOpenedAt(port);
  await waitUntilReady(handle, { timeoutMs: 30_000 });
  const readinessLag = performance.now() - (await opened);
  const pgid = handle.pid;
  if (pgid === undefined) throw new Error('the simulator did not start');
  const gone = groupGoneAt(pgid);
  const report = await handle.stop({ graceMs: 5_000 });
  const stoppedAt = performance.now();
  if (!report.verified || report.outcome !== 'graceful') throw new Error(`teardown: ${report.detail}`);
  return { readinessLag, teardownLag: Math.max(0, stoppedAt - (await gone)) };
}

/** The samples' requests through the openai client alone, `concurrency` at a time: wall time in ms. */
async function bareClientMs(
  baseUrl: string,
  batch: readonly Sample[],
  concurrency: number,
  generation: GenerationSettings,
): Promise<number> {
  const client = createClient({ baseUrl, servedModel: 'bench' }, generation);
  const queue = batch.values();
  const started = performance.now();
  const worker = async () => {
    for (const sample of queue)
      await client.chat.completions.create(buildChatRequest('bench', renderPrompt(sample), generation));
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return performance.now() - started;
}

/**
 * This machine's floor for the same waves: the floor server (bench/_floor-server.ts, its own process) answering
 * after exactly LATENCY_MS, asked through undici's `request`, the leanest client, `concurrency` at a time. Whatever
 * the ratio exceeds it by is the simulator's, the openai client's and evalrig's; whatever it holds is the kernel's
 * and Node's. Returns the wall time in ms per level.
 */
async function floorMs(levels: typeof LEVELS, body: string): Promise<number[]> {
  const server = spawn(
    process.execPath,
    ['--import', 'tsx', join(root, 'bench/_floor-server.ts'), String(LATENCY_MS)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const [line] = (await once(server.stdout, 'data')) as [Buffer];
    const url = `http://127.0.0.1:${line.toString().trim()}/v1/chat/completions`;
    const ask = async () => {
      const { body: answer } = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await answer.json();
    };
    const waves = async (count: number, concurrency: number) => {
      let left = count;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (left-- > 0) await ask();
        }),
      );
      return performance.now() - started;
    };
    const walls: number[] = [];
    for (const { concurrency, samples: count } of levels) {
      await waves(2 * concurrency, concurrency);
      walls.push(await waves(count, concurrency));
    }
    return walls;
  } finally {
    server.kill('SIGTERM');
    await once(server, 'exit');
  }
}

async function evaluationRatios(): Promise<Figure[]> {
  const { handle } = await start(benchServer(0.5), 'eval');
  try {
    await waitUntilReady(handle, { timeoutMs: 30_000 });
    const plan = PlanSchema.parse({
      name: 'bench',
      server: { model: '/models/bench' },
      evals: [{ name: 'bench', backend: 'native', dataset: 'iquiz', dataset_path: work }],
    });
    const spec = plan.evals[0];
    if (!spec) throw new Error('no eval');
    const figures: Figure[] = [];
    const { generation } = specOf(spec, 'native');
    const [first] = samples;
    if (!first) throw new Error('no samples');
    const floors = await floorMs(
      LEVELS,
      JSON.stringify(buildChatRequest('bench', renderPrompt(first), generation)),
    );
    for (const [level, { concurrency, samples: count }] of LEVELS.entries()) {
      const evalDir = join(work, `eval-c${concurrency}`);
      mkdirSync(evalDir, { recursive: true });
      const baseUrl = `${handle.baseUrl}/v1`;
      await bareClientMs(baseUrl, samples.slice(0, 2 * concurrency), concurrency, generation);
      const bareMs = await bareClientMs(baseUrl, samples.slice(0, count), concurrency, generation);
      const result = await runNative(
        { ...nativeTaskOf(specOf(spec, 'native')), concurrency },
        samples.slice(0, count),
        { baseUrl, servedModel: 'bench' },
        { evalDir, signal: new AbortController().signal },
      );
      const ideal = Math.ceil(count / concurrency) * LATENCY_MS;
      // The requests themselves take longer than the simulator's 250 ms on a busy machine: the ratio holds both.
      console.log(
        `c${concurrency}: evaluated ${result.num} samples in ${result.wall_ms} ms (ideal ${ideal} ms), errors ${result.errors}, ` +
          `mean request latency ${result.latency_ms?.mean ?? '?'} ms; the openai client alone ${Math.round(bareMs)} ms`,
      );
      const ratio = Math.round((result.wall_ms / ideal) * 1000) / 1000;
      console.log(
        `c${concurrency}: this machine's floor (a bare server and client, bench/_floor-server.ts) ` +
          `${((floors[level] ?? NaN) / ideal).toFixed(3)} × the ideal; evalrig's ratio ${ratio}`,
      );
      figures.push({
        name: `eval-overhead ratio c${concurrency}`,
        value: ratio,
        unit: '',
        target: 1.02,
        kind: 'max',
      });
      figures.push({
        name: `eval-overhead over the bare client c${concurrency}`,
        value: Math.round((result.wall_ms / bareMs) * 1000) / 1000,
        unit: '',
        target: 1.02,
        kind: 'max',
      });
    }
    return figures;
  } finally {
    await handle.stop({ graceMs: 5_000 });
  }
}

/** One demo run; evalrig's own time from its wall time and its manifest (see the header). */
function demoOwnTime(cache: string): number {
  const outputDir = join(work, 'demo-outputs');
  const started = performance.now();
  execFileSync(
    process.execPath,
    [join(root, 'dist/cli/cli.js'), 'plan', 'configs/demo.yaml', '--output-dir', outputDir],
    {
      cwd: root,
      env: { ...process.env, EVALRIG_CACHE: cache },
      stdio: 'ignore',
    },
  );
  const wall = performance.now() - started;
  const runs = join(outputDir, 'demo');
  const runDir = join(runs, readdirSync(runs).sort().at(-1) ?? '');
  const manifest = JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8')) as Manifest;
  const result = JSON.parse(readFileSync(join(runDir, 'evals', 'demo-quiz', 'result.json'), 'utf8')) as {
    wall_ms: number;
  };
  const serverMs = manifest.phases['ready']?.duration_ms ?? 0;
  const own = wall - serverMs - result.wall_ms;
  // The server's own exit after SIGTERM stays in evalrig's figure: said apart, as the share evalrig cannot shorten.
  const stopMs = manifest.phases['stop']?.duration_ms ?? 0;
  console.log(
    `demo: wall ${Math.round(wall)} ms, server start-up ${serverMs} ms, requests ${result.wall_ms} ms, ` +
      `evalrig ${Math.round(own)} ms (of which the stop, mostly the server's own exit, ${stopMs} ms)`,
  );
  return Math.round(own);
}

const lags: { readinessLag: number; teardownLag: number }[] = [];
for (let i = 0; i < STARTS; i++) lags.push(await startAndStop(i));
console.log(
  `readiness lags ${lags.map((l) => Math.round(l.readinessLag)).join(', ')} ms; teardown lags ${lags.map((l) => Math.round(l.teardownLag)).join(', ')} ms`,
);
const ratios = await evaluationRatios();
const demoCache = join(work, 'demo-cache');
console.log('demo, first run (version detection not cached yet):');
demoOwnTime(demoCache);
const demoOwn = median(Array.from({ length: DEMO_RUNS }, () => demoOwnTime(demoCache)));
const startup = await startupFigures();
console.log(`node -e 0: ${startup.nodeMs} ms (for scale)`);

reportFigures([
  ...ratios,
  {
    name: 'readiness lag',
    value: Math.round(median(lags.map((l) => l.readinessLag))),
    unit: ' ms',
    target: 25,
    kind: 'max',
  },
  {
    name: 'teardown after exit',
    value: Math.round(median(lags.map((l) => l.teardownLag))),
    unit: ' ms',
    target: 200,
    kind: 'max',
  },
  { name: 'demo own time', value: demoOwn, unit: ' ms', target: 300, kind: 'max' },
  ...startup.figures,
]);
