/**
 * Memory of the native evaluation against the number of samples, each answered with ~2 KB of reasoning:
 * - peak RSS of a process that evaluates 1,000, 10,000 and 100,000 samples (target ≤ 300 MB);
 * - the heap the runner holds at its last sample, after a full GC, beyond the samples it was given: growth per
 *   sample from 10,000 to 100,000 samples (target ≤ 100 bytes; a record weighs over 3 KB, so keeping records
 *   would show at once).
 * Peak RSS is mostly V8's choice: between two full GCs it lets the heap grow to a multiple of what is alive (the
 * samples, given by the caller, are most of that), and the multiple is largest on hosts with a large heap limit.
 *
 * Each size runs in a fresh process (peak RSS only ever grows). The endpoint is a small HTTP server in a process of
 * its own that answers at once in vLLM's shape, so the figures are the evaluator's alone and 111,000 requests fit in
 * about two minutes on two cores; the simulator is faithful but spends more per request on tokens and timing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Sample } from '../src/datasets/types.js';
import { runNative } from '../src/eval/native/runner.js';
import { GenerationSchema } from '../src/plan/schema.js';
import { reportFigures, type Figure } from './_figures.js';

const SIZES = [1_000, 10_000, 100_000];
const CONCURRENCY = 32;
const MAX_PEAK_RSS_MB = 300;
const MAX_HELD_BYTES_PER_SAMPLE = 100;
const SERVED_MODEL = 'bench';
const self = fileURLToPath(import.meta.url);

interface Measurement {
  samples: number;
  errors: number;
  seconds: number;
  peakRssMb: number;
  /** Heap in use at the last sample beyond that before the run, both after a full GC. */
  heldBytes: number;
}

/** The answer to every request: vLLM ≥0.16's non-streamed shape, ~2 KB of reasoning, a final answer line. */
function answerBody(): string {
  return JSON.stringify({
    id: 'chatcmpl-0123456789abcdef',
    object: 'chat.completion',
    created: 0,
    model: SERVED_MODEL,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          reasoning: '先理解题目在问什么，再逐个检查选项。'.repeat(40),
          content: '\n\n答案：A',
          tool_calls: [],
        },
        logprobs: null,
        finish_reason: 'stop',
        stop_reason: null,
      },
    ],
    usage: { prompt_tokens: 120, total_tokens: 820, completion_tokens: 700 },
  });
}

/** Serves chat completions until killed; prints its port. */
function serve(): void {
  const body = answerBody();
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(body);
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    console.log(typeof address === 'object' && address ? address.port : 0);
  });
}

function heapAfterFullGc(): number {
  // The child runs with --expose-gc.
  (globalThis as typeof globalThis & { gc: () => void }).gc();
  return process.memoryUsage().heapUsed;
}

/** Evaluates `count` samples against the server and prints what it measured as one JSON line. */
async function measure(count: number, baseUrl: string): Promise<void> {
  const samples: Sample[] = Array.from({ length: count }, (_, i) => ({
    id: `M-${i}`,
    subset: i % 2 ? 'IQ' : 'EQ',
    question: `内存基准问题 ${i}：${i} 加 1 等于几？`,
    choices: [String(i + 1), String(i + 2), String(i)],
    answer: 'A',
    meta: {},
  }));
  const evalDir = mkdtempSync(join(tmpdir(), 'evalrig-bench-memory-'));
  try {
    const heapBefore = heapAfterFullGc();
    let heapAtLastSample = Number.NaN;
    const started = performance.now();
    const result = await runNative(
      {
        name: 'memory',
        dataset: 'iquiz',
        concurrency: CONCURRENCY,
        generation: GenerationSchema.parse({}),
        repeats: 1,
      },
      samples,
      { baseUrl, servedModel: SERVED_MODEL },
      {
        evalDir,
        signal: new AbortController().signal,
        onProgress: ({ done, total }) => {
          if (done === total) heapAtLastSample = heapAfterFullGc();
        },
      },
    );
    const measurement: Measurement = {
      samples: result.num,
      errors: result.errors,
      seconds: Math.round((performance.now() - started) / 100) / 10,
      // maxRSS is in KiB: the peak over this process's whole life.
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      heldBytes: heapAtLastSample - heapBefore,
    };
    console.log(JSON.stringify(measurement));
  } finally {
    rmSync(evalDir, { recursive: true, force: true });
  }
}

function startChild(args: string[]): ChildProcess {
  // Under the heap bound evalrig runs with (`npm run plan`, the nightly script, the Docker image), as the product does.
  return spawn(
    process.execPath,
    [...process.execArgv, '--max-old-space-size=1536', '--expose-gc', self, ...args],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
}

async function firstLine(child: ChildProcess): Promise<string> {
  if (!child.stdout) throw new Error('the child has no stdout');
  for await (const line of createInterface({ input: child.stdout })) return line;
  throw new Error('the child printed nothing');
}

async function measureAll(): Promise<Measurement[]> {
  const server = startChild(['serve']);
  try {
    const baseUrl = `http://127.0.0.1:${await firstLine(server)}/v1`;
    const measurements: Measurement[] = [];
    for (const size of SIZES) {
      const measurement = JSON.parse(
        await firstLine(startChild(['measure', String(size), baseUrl])),
      ) as Measurement;
      console.log(
        `${measurement.samples} samples in ${measurement.seconds} s: peak RSS ${measurement.peakRssMb} MB, ` +
          `runner's heap ${(measurement.heldBytes / 1024 / 1024).toFixed(1)} MB, ${measurement.errors} errors`,
      );
      if (measurement.samples !== size || measurement.errors > 0)
        throw new Error(`${size} samples: the evaluation did not answer every sample`);
      measurements.push(measurement);
    }
    return measurements;
  } finally {
    server.kill();
  }
}

async function main(): Promise<never> {
  const measurements = await measureAll();
  const held = (samples: number): number =>
    measurements.find((measurement) => measurement.samples === samples)?.heldBytes ?? Number.NaN;
  const figures: Figure[] = measurements.map((measurement) => ({
    name: `peak RSS at ${measurement.samples} samples`,
    value: measurement.peakRssMb,
    unit: ' MB',
    target: MAX_PEAK_RSS_MB,
    kind: 'max',
  }));
  figures.push({
    name: "runner's heap per sample (10,000 → 100,000 samples)",
    value: Math.max(0, Math.round((held(100_000) - held(10_000)) / 90_000)),
    unit: ' bytes',
    target: MAX_HELD_BYTES_PER_SAMPLE,
    kind: 'max',
  });
  return reportFigures(figures);
}

const [role, ...args] = process.argv.slice(2);
if (role === 'serve') serve();
else if (role === 'measure') await measure(Number(args[0]), args[1] ?? '');
else await main();
