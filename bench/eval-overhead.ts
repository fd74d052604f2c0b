/**
 * Evaluation overhead and readiness lag, against the simulator with a fixed per-request latency.
 * - overhead: wall time of 256 samples at concurrency 16 over the ideal ceil(256/16) × latency (target ≤ 1.10)
 * - readiness lag: from the moment the simulator's port accepts connections to our readiness decision
 *   (target ≤ 250 ms). The moment the port opens is taken by an independent 2 ms TCP probe.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runNative } from '../src/eval/native/runner.js';
import type { Sample } from '../src/datasets/types.js';
import { PlanSchema } from '../src/plan/schema.js';
import { startLocalServer } from '../src/server/local/start.js';
import { findFreePort } from '../src/util/ports.js';
import { waitUntilReady } from '../src/server/readiness/wait-until-ready.js';
import { reportFigures } from './_figures.js';
import { nativeTaskOf } from '../src/eval/native/evaluator.js';
import { specOf } from '../src/eval/evaluator.js';

const SAMPLES = 256;
const CONCURRENCY = 16;
const LATENCY_MS = 250;
const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'evalrig-bench-'));

const samples: Sample[] = Array.from({ length: SAMPLES }, (_, i) => ({
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

const plan = PlanSchema.parse({
  name: 'bench',
  server: {
    model: '/models/bench',
    served_model_name: 'bench',
    extra_args: ['--max-num-seqs', '256'],
    env: {
      VLLM_SIM_LOAD_TIME: '1.5',
      // The whole latency in the time to first token, so every request takes the same time whatever its length.
      VLLM_SIM_TTFT_MS: String(LATENCY_MS),
      VLLM_SIM_TOKEN_LATENCY_MS: '0',
      VLLM_SIM_ANSWER_KEY: join(work, 'key.jsonl'),
    },
  },
  evals: [
    {
      name: 'bench',
      backend: 'native',
      dataset: 'iquiz',
      dataset_path: work,
      concurrency: CONCURRENCY,
      generation: { max_tokens: 512 },
    },
  ],
});

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

const port = await findFreePort('127.0.0.1');
const handle = await startLocalServer({ ...plan.server, executable: join(root, 'sim/bin/vllm') }, port, {
  runId: 'bench',
  runDir: work,
  logFile: join(work, 'server.log'),
  planDir: root,
  maskLine: (l) => l,
});
try {
  const opened = portOpenedAt(port);
  await waitUntilReady(handle, { timeoutMs: 30_000 });
  const detectedAt = performance.now();
  const readinessLag = detectedAt - (await opened);

  const spec = plan.evals[0];
  if (!spec) throw new Error('no eval');
  const evalDir = join(work, 'eval');
  mkdirSync(evalDir, { recursive: true });
  const result = await runNative(
    nativeTaskOf(specOf(spec, 'native')),
    samples,
    { baseUrl: `${handle.baseUrl}/v1`, servedModel: 'bench' },
    { evalDir, signal: new AbortController().signal },
  );
  const ideal = Math.ceil(SAMPLES / CONCURRENCY) * LATENCY_MS;
  console.log(
    `evaluated ${result.num} samples in ${result.wall_ms.toFixed(0)} ms (ideal ${ideal} ms), errors ${result.errors}, accuracy ${result.score}`,
  );
  await handle.stop({ graceMs: 5_000 });
  reportFigures([
    { name: 'eval-overhead ratio', value: result.wall_ms / ideal, unit: '', target: 1.1, kind: 'max' },
    { name: 'readiness lag', value: Math.round(readinessLag), unit: ' ms', target: 250, kind: 'max' },
  ]);
} finally {
  await handle.stop({ graceMs: 5_000 });
}
