import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { readJson, runDirFrom } from '../e2e/cli-helpers.js';
import { CLI, DEMO_QUIZ } from '../paths.js';
import {
  containerGone,
  ensureSimImage,
  SERVED_AS_QWEN3,
  simDockerServer,
  skipWithoutEngine,
} from './engine.js';

const skip = await skipWithoutEngine('evalrig plan with runtime docker');

interface Manifest {
  run_id: string;
  server: { runtime: string; argv: string[]; base_url: string; container_id: string | null };
  teardown: { outcome: string; verified: boolean; detail: string } | null;
}

/** A demo-like plan whose server is the simulator image; the answer key is mounted read-only into the container. */
function writeDockerPlan(
  sim: Record<string, string> = {},
  evalOverrides: Record<string, unknown> = {},
): string {
  const dir = mkdtempSync(join(tmpdir(), 'evalrig-docker-plan-'));
  const plan = {
    name: 'docker-e2e',
    server: simDockerServer(
      {
        ...SERVED_AS_QWEN3,
        api_key: 'sk-e2e-docker-key',
        startup_timeout: 60,
        stop_timeout: 5,
        env: {
          VLLM_SIM_LOAD_TIME: '0.5',
          VLLM_SIM_TTFT_MS: '5',
          VLLM_SIM_TOKEN_LATENCY_MS: '0',
          VLLM_SIM_ANSWER_KEY: '/data/demo-quiz',
          ...sim,
        },
      },
      {
        volumes: [{ host: DEMO_QUIZ, container: '/data/demo-quiz', read_only: true }],
        env: { HF_TOKEN: 'hf_e2e_docker_secret' },
      },
    ),
    evals: [
      {
        name: 'quiz',
        backend: 'native',
        dataset: 'iquiz',
        dataset_path: DEMO_QUIZ,
        concurrency: 8,
        generation: { max_tokens: 1024, temperature: 0.6, seed: 1 },
        ...evalOverrides,
      },
    ],
    output: { dir: join(dir, 'outputs') },
  };
  const file = join(dir, 'plan.yaml');
  writeFileSync(file, stringify(plan));
  return file;
}

// --skip-preflight: the host checks want a GPU, and this engine has none (the plans say gpus: none).
describe.skipIf(skip)('evalrig plan with runtime docker (the simulator image)', () => {
  beforeAll(ensureSimImage, 120_000);

  it('runs a whole plan from start to report, and leaves no container', async () => {
    const result = await execa('node', [CLI, 'plan', '--skip-preflight', writeDockerPlan()], {
      reject: false,
      all: true,
      env: { CI: '1' },
    });
    expect(result.exitCode, result.all).toBe(0);
    const runDir = runDirFrom(result.all);

    const summary = readJson<{ status: string; evals: { num: number; score: number }[] }>(
      join(runDir, 'summary.json'),
    );
    expect(summary.status).toBe('ok');
    expect(summary.evals[0]?.num).toBe(40);
    expect(existsSync(join(runDir, 'report.md'))).toBe(true);

    const manifest = readJson<Manifest>(join(runDir, 'manifest.json'));
    expect(manifest.server.runtime).toBe('docker');
    expect(manifest.server.container_id).toMatch(/^[0-9a-f]{64}$/);
    expect(manifest.server.argv.slice(0, 2)).toEqual(['docker', 'run']);
    expect(manifest.server.base_url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(manifest.teardown).toMatchObject({ outcome: 'graceful', verified: true });
    expect(await containerGone(manifest.server.container_id ?? '')).toBe(true);

    // Secrets stay out of every file of the run and of the console.
    const files = ['manifest.json', 'server.log', 'plan.resolved.yaml', 'summary.json'].map((name) =>
      readFileSync(join(runDir, name), 'utf8'),
    );
    for (const text of [...files, result.all]) {
      expect(text).not.toContain('sk-e2e-docker-key');
      expect(text).not.toContain('hf_e2e_docker_secret');
    }
    expect(readFileSync(join(runDir, 'server.log'), 'utf8')).toContain('Application startup complete.');
  });

  it('SIGINT during evaluation: exit 130, partial predictions kept, container stopped and removed', async () => {
    const file = writeDockerPlan({ VLLM_SIM_TOKEN_LATENCY_MS: '10' }, { concurrency: 1 });
    const child = execa('node', [CLI, 'plan', '--skip-preflight', file], {
      reject: false,
      all: true,
      env: { CI: '1' },
    });
    let output = '';
    child.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const deadline = Date.now() + 60_000;
    while (!/\d+\/40 done/.test(output)) {
      if (Date.now() > deadline) throw new Error(`the evaluation did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, result.all).toBe(130);
    expect(result.all).toContain('SIGINT received');

    const runDir = runDirFrom(result.all);
    expect(readJson<{ status: string }>(join(runDir, 'summary.json')).status).toBe('interrupted');
    const predictions = readFileSync(join(runDir, 'evals/quiz/predictions.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean);
    expect(predictions.length).toBeGreaterThan(0);
    expect(predictions.length).toBeLessThan(40);
    const manifest = readJson<Manifest>(join(runDir, 'manifest.json'));
    expect(manifest.teardown).toMatchObject({ verified: true });
    // By container id: run ids are timestamps, which runs in parallel test files can share.
    expect(manifest.server.container_id).toBeTruthy();
    expect(await containerGone(manifest.server.container_id ?? '')).toBe(true);
  });

  it('a container that crashes during load fails the run with the exit code and the fatal line', async () => {
    const result = await execa(
      'node',
      [CLI, 'plan', '--skip-preflight', writeDockerPlan({ VLLM_SIM_FAULT: 'crash_on_load:cuda_oom' })],
      {
        reject: false,
        all: true,
        env: { CI: '1' },
      },
    );
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toMatch(/exited with code 1/);
    expect(result.all).toContain('CUDA out of memory');
    const manifest = readJson<Manifest>(join(runDirFrom(result.all), 'manifest.json'));
    expect(manifest.teardown).toMatchObject({ verified: true });
    // By container id: run ids are timestamps, which runs in parallel test files can share.
    expect(manifest.server.container_id).toBeTruthy();
    expect(await containerGone(manifest.server.container_id ?? '')).toBe(true);
  });
});
