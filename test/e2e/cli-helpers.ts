import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type ResultPromise } from 'execa';
import { stringify } from 'yaml';
import type { PredictionRecord } from '../../src/eval/types.js';
import { CLI, DEMO_QUIZ, ROOT } from '../paths.js';
import { pidsInGroup } from '../sim/helpers.js';

export const SIM_VLLM = join(ROOT, 'sim/bin/vllm');

/** The prediction record fields the pipeline test relies on in every line of predictions.jsonl. */
export const CORE_PREDICTION_FIELDS: (keyof PredictionRecord)[] = [
  'id',
  'subset',
  'prompt',
  'content',
  'reasoning',
  'extracted',
  'gold',
  'correct',
  'finish_reason',
  'usage',
  'latency_ms',
];

/** Every field of a prediction record, as the native runner writes it. */
export const PREDICTION_FIELDS: (keyof PredictionRecord)[] = [
  ...CORE_PREDICTION_FIELDS,
  'truncated',
  'error',
  'error_kind',
  'ttft_ms',
  'attempts',
];

export interface PlanOverrides {
  server?: Record<string, unknown>;
  /** Simulator knobs, merged over the fast defaults (the plan's env wins over the process environment). */
  sim?: Record<string, string>;
  evals?: Record<string, unknown>[];
  eval?: Record<string, unknown>;
  generation?: Record<string, unknown>;
}

/** A demo-like plan in a fresh temp folder, pointing at the simulator; returns the plan path and the output dir. */
export function writeSimPlan(overrides: PlanOverrides = {}): { file: string; outDir: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'evalrig-e2e-'));
  const plan = {
    name: 'e2e',
    server: {
      executable: SIM_VLLM,
      model: '/root/autodl-tmp/Qwen/Qwen3-8B',
      served_model_name: 'Qwen3-8B',
      max_model_len: 8192,
      reasoning_parser: 'qwen3',
      startup_timeout: 30,
      stop_timeout: 5,
      ...overrides.server,
      env: {
        VLLM_SIM_LOAD_TIME: '0.5',
        VLLM_SIM_TTFT_MS: '5',
        VLLM_SIM_TOKEN_LATENCY_MS: '0',
        VLLM_SIM_ANSWER_KEY: DEMO_QUIZ,
        ...overrides.sim,
      },
    },
    evals: overrides.evals ?? [
      {
        name: 'quiz',
        backend: 'native',
        dataset: 'iquiz',
        dataset_path: DEMO_QUIZ,
        concurrency: 8,
        generation: { max_tokens: 1024, temperature: 0.6, seed: 1, ...overrides.generation },
        ...overrides.eval,
      },
    ],
    output: { dir: join(dir, 'outputs') },
  };
  const file = join(dir, 'plan.yaml');
  writeFileSync(file, stringify(plan));
  return { file, outDir: join(dir, 'outputs'), dir };
}

export function startCli(
  args: string[],
  env: Record<string, string> = {},
): ResultPromise<{ reject: false; all: true; env: Record<string, string> }> {
  return execa('node', [CLI, ...args], { reject: false, all: true, env: { CI: '1', ...env } });
}

/** The run directory printed last by `evalrig plan`. */
export function runDirFrom(output: string): string {
  const match = /Run directory: (.+)$/m.exec(output);
  if (!match?.[1]) throw new Error(`no run directory in output:\n${output}`);
  return match[1].trim();
}

export function readJson<T = Record<string, unknown>>(file: string): T {
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

export function readJsonLines<T = Record<string, unknown>>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);
}

/** Checked with ps, independently of the code under test. */
export function groupAlive(pgid: number): boolean {
  return pidsInGroup(pgid).length > 0;
}

/** The server's process group recorded in the manifest must be empty after every run. */
export function expectServerGone(runDir: string): number {
  const manifest = readJson<{ server: { pid: number | null } }>(join(runDir, 'manifest.json'));
  const pid = manifest.server.pid;
  if (pid === null) throw new Error('manifest has no server pid');
  if (groupAlive(pid)) {
    process.kill(-pid, 'SIGKILL');
    throw new Error(`process group ${pid} still alive after the run`);
  }
  return pid;
}

export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The environment of a command whose `squeue` is a stand-in shell script, first on PATH. */
function withStandInSqueue(script: string, env: Record<string, string>): Record<string, string> {
  const bin = mkdtempSync(join(tmpdir(), 'evalrig-squeue-'));
  writeFileSync(join(bin, 'squeue'), `#!/bin/sh\n${script}\n`);
  chmodSync(join(bin, 'squeue'), 0o755);
  return { ...env, PATH: `${bin}:${process.env['PATH'] ?? ''}` };
}

/**
 * The environment of a command that must not depend on this machine's Slurm (a cluster configured but stopped would
 * make `evalrig cleanup` report it, a running one holds other tests' jobs): a stand-in `squeue` that lists an
 * empty queue.
 */
export function withEmptySlurmQueue(env: Record<string, string> = {}): Record<string, string> {
  return withStandInSqueue('exit 0', env);
}

/**
 * The environment of a command that meets a Slurm whose controller is down, on any machine (with or without Slurm):
 * a stand-in `squeue` that fails as the real one does then.
 */
export function withUnreachableSlurm(env: Record<string, string> = {}): Record<string, string> {
  return withStandInSqueue(
    "echo 'slurm_load_jobs error: Unable to contact slurm controller (connect failure)' >&2\nexit 1",
    env,
  );
}

/** A Docker engine stand-in on a unix socket that answers every request with an empty list. */
export interface EmptyDockerEngine {
  /** DOCKER_HOST for it. */
  host: string;
  /** What it was asked, as `METHOD url`. */
  asked: string[];
  close(): Promise<void>;
}

/**
 * Starts an EmptyDockerEngine in `dir`: a command pointed at it searches an engine that holds no container, so it
 * neither depends on nor touches this machine's real engine.
 */
export async function startEmptyDockerEngine(dir: string): Promise<EmptyDockerEngine> {
  const socket = join(dir, 'docker.sock');
  const asked: string[] = [];
  const engine = createServer((request, response) => {
    asked.push(`${request.method ?? ''} ${request.url ?? ''}`);
    response.writeHead(200, { 'content-type': 'application/json' }).end('[]');
  });
  await new Promise<void>((resolve) => engine.listen(socket, resolve));
  return {
    host: `unix://${socket}`,
    asked,
    close: () => new Promise((resolve) => engine.close(() => resolve())),
  };
}
