/**
 * A night of faults, compressed: a long evaluation at concurrency 32 against the simulator with random injected
 * faults (engine crashes, 503 and 429 bursts, streams cut off or stalled halfway), continued with `--resume` until
 * it is done, as an unattended nightly job would be.
 * - samples lost (target 0) and evaluated twice (target 0), from the run's own predictions.jsonl
 * - processes left behind (target 0), from /proc
 * - time lost to faults as a fraction of the run: 1 - (the same run without faults) / (all attempts together).
 *   On this 10-second run it is mostly the three server restarts and the back-off pauses (1-2 s, doubling);
 *   the target only guards against that cost growing (a retry storm, a resume that starts over).
 *
 *   npm run bench soak [-- --samples 1500]
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import { reportFigures } from './_figures.js';

const root = resolve(import.meta.dirname, '..');
const CLI = join(root, 'dist/cli/cli.js');
const SIM_VLLM = join(root, 'sim/bin/vllm');
const samplesArg = process.argv.indexOf('--samples');
const SAMPLES = samplesArg > 0 ? Number(process.argv[samplesArg + 1]) : 1500;
const MAX_ATTEMPTS = 30;
const FAULTS = 'http_error:503@0.03,http_error:429@0.01,break_stream:0.02,stall_stream:0.005,crash_after:400';

const work = mkdtempSync(join(tmpdir(), 'evalrig-soak-'));
// One file is both the dataset (IQuiz's record layout) and the simulated model's answer key.
const dataset = join(work, 'soak.jsonl');
writeFileSync(
  dataset,
  Array.from({ length: SAMPLES }, (_, i) =>
    JSON.stringify({
      question: `耐久测试第 ${i} 题：${i} 加 1 等于几？`,
      choices: [`${i + 1}`, `${i}`, `${i + 2}`],
      answer: 'A',
    }),
  ).join('\n') + '\n',
);

function writePlan(name: string, fault: string): string {
  const file = join(work, `${name}.yaml`);
  const plan = {
    name,
    server: {
      executable: SIM_VLLM,
      model: '/models/soak',
      served_model_name: 'soak',
      max_model_len: 8192,
      extra_args: ['--max-num-seqs', '64'],
      startup_timeout: 60,
      stop_timeout: 5,
      health_interval: '1s',
      unhealthy_after: '10s',
      env: {
        VLLM_SIM_LOAD_TIME: '0.3',
        VLLM_SIM_TTFT_MS: '20',
        VLLM_SIM_TOKEN_LATENCY_MS: '1',
        VLLM_SIM_ANSWER_KEY: dataset,
        VLLM_SIM_ACCURACY: '1',
        VLLM_SIM_SEED: '7',
        ...(fault ? { VLLM_SIM_FAULT: fault } : {}),
      },
    },
    evals: [
      {
        name: 'soak',
        backend: 'native',
        dataset: 'mcq',
        dataset_path: dataset,
        mcq: { layout: 'iquiz' },
        concurrency: 32,
        generation: { stream: true, max_tokens: 512, timeout: '3s', retries: 4 },
      },
    ],
    output: { dir: join(work, 'outputs') },
  };
  writeFileSync(file, stringify(plan));
  return file;
}

/** Runs the plan, following the printed `--resume` command until the run ends ok. */
async function runToTheEnd(file: string): Promise<{ wallMs: number; attempts: number; runDir: string }> {
  let args = ['plan', file, '--skip-preflight'];
  let wallMs = 0;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const started = performance.now();
    const result = await execa('node', [CLI, ...args], {
      reject: false,
      all: true,
      cwd: work,
      env: { CI: '1' },
    });
    wallMs += performance.now() - started;
    const runDir = /Run directory: (.+)$/m.exec(result.all)?.[1]?.trim() ?? '';
    if (result.exitCode === 0) return { wallMs, attempts: attempt, runDir };
    const resume = /--resume (\S+)/.exec(result.all)?.[1];
    if (!resume)
      throw new Error(`attempt ${attempt} ended ${result.exitCode} without a way to resume:\n${result.all}`);
    args = ['plan', file, '--skip-preflight', '--resume', resume];
    console.log(`attempt ${attempt}: exit ${result.exitCode}, resuming`);
  }
  throw new Error(`not done after ${MAX_ATTEMPTS} attempts`);
}

interface Line {
  id: string;
  error: string | null;
  error_kind?: string | null;
}

/** Per sample id: how many finished records (an answer, or an error that retrying cannot mend). */
function finishedCounts(runDir: string): Map<string, number> {
  const counts = new Map<string, number>();
  const text = readFileSync(join(runDir, 'evals/soak/predictions.jsonl'), 'utf8');
  for (const line of text.split('\n').filter(Boolean)) {
    const record = JSON.parse(line) as Line;
    const finished = record.error === null || record.error_kind === 'permanent';
    counts.set(record.id, (counts.get(record.id) ?? 0) + (finished ? 1 : 0));
  }
  return counts;
}

/** Processes of the simulator still alive anywhere on this machine. */
function simulatorsLeft(): number {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((pid) => {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        return cmdline.includes(work) && !/\) Z /.test(stat);
      } catch {
        return false;
      }
    }).length;
}

const clean = await runToTheEnd(writePlan('soak-clean', ''));
console.log(`without faults: ${(clean.wallMs / 1000).toFixed(1)} s`);
const faulted = await runToTheEnd(writePlan('soak', FAULTS));
console.log(`with faults: ${(faulted.wallMs / 1000).toFixed(1)} s over ${faulted.attempts} attempts`);

const counts = finishedCounts(faulted.runDir);
const summary = JSON.parse(readFileSync(join(faulted.runDir, 'summary.json'), 'utf8')) as {
  evals: { num: number }[];
};
const evaluated = [...counts.values()].filter((n) => n > 0).length;
reportFigures([
  { name: 'samples evaluated', value: evaluated, unit: '', target: SAMPLES, kind: 'min' },
  {
    name: 'samples in summary.json',
    value: summary.evals[0]?.num ?? 0,
    unit: '',
    target: SAMPLES,
    kind: 'min',
  },
  { name: 'samples lost', value: SAMPLES - evaluated, unit: '', target: 0, kind: 'max' },
  {
    name: 'samples evaluated twice',
    value: [...counts.values()].filter((n) => n > 1).length,
    unit: '',
    target: 0,
    kind: 'max',
  },
  { name: 'processes left', value: simulatorsLeft(), unit: '', target: 0, kind: 'max' },
  {
    name: 'time lost to faults',
    value: 1 - clean.wallMs / faulted.wallMs,
    unit: '',
    target: 0.85,
    kind: 'max',
  },
]);
