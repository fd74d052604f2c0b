import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PredictionRecord } from '../../src/eval/types.js';
import { formatScore } from '../../src/report/table.js';
import type { RunSummary } from '../../src/run/summary.js';
import {
  CORE_PREDICTION_FIELDS,
  expectServerGone,
  groupAlive,
  readJson,
  readJsonLines,
  runDirFrom,
  startCli,
  waitFor,
  writeSimPlan,
  withEmptySlurmQueue,
} from './cli-helpers.js';

// The shapes on disk; the test asserts the fields it relies on, the types only spare casts.
type Summary = RunSummary;
type Prediction = PredictionRecord;

/** Starts `evalrig plan`, returns the process and a function telling whether its output contains a text. */
function startPlan(file: string) {
  const child = startCli(['plan', file]);
  let output = '';
  child.all.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return {
    child,
    seen: (text: string | RegExp) => (typeof text === 'string' ? output.includes(text) : text.test(output)),
    /** The run directory, printed first thing. */
    runDir: () => /run directory (\S+)/.exec(output)?.[1] ?? '',
  };
}

describe.concurrent('evalrig plan against the simulator as vllm', () => {
  it('runs the whole pipeline and writes every file with the right numbers', async () => {
    const { file } = writeSimPlan({ sim: { VLLM_SIM_ACCURACY: '1' } });
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(0);
    const runDir = runDirFrom(result.all);
    expect(result.all.trim().split('\n').at(-1)).toContain(runDir);
    expect(result.all).toMatch(/Model\s*│\s*Dataset\s*│\s*Metric\s*│\s*Subset\s*│\s*Num\s*│\s*Score/);
    for (const name of [
      'plan.resolved.yaml',
      'manifest.json',
      'server.log',
      'summary.json',
      'report.md',
      'evals/quiz/predictions.jsonl',
      'evals/quiz/result.json',
    ]) {
      expect(existsSync(join(runDir, name)), name).toBe(true);
    }
    const summary = readJson<Summary>(join(runDir, 'summary.json'));
    expect(summary).toMatchObject({
      status: 'ok',
      exit_code: 0,
      run_dir: runDir,
      teardown: { verified: true },
    });
    expect(summary.evals[0]).toMatchObject({
      name: 'quiz',
      backend: 'native',
      dataset: 'iquiz',
      num: 40,
      score: 1,
      truncated: 0,
      errors: 0,
    });
    expect(summary.evals[0]?.subsets.map((s) => [s.name, s.num])).toEqual([
      ['IQ', 16],
      ['EQ', 24],
    ]);
    const predictions = readJsonLines<Prediction>(join(runDir, 'evals/quiz/predictions.jsonl'));
    expect(predictions).toHaveLength(40);
    for (const p of predictions) {
      expect(Object.keys(p)).toEqual(expect.arrayContaining(CORE_PREDICTION_FIELDS));
      expect(p.extracted).toBe(p.gold);
    }
    const manifest = readJson<{
      server: { argv: string[]; vllm_version: string };
      phases: Record<string, unknown>;
    }>(join(runDir, 'manifest.json'));
    expect(manifest.server.vllm_version).toBe('0.17.1');
    expect(Object.keys(manifest.phases)).toEqual(
      expect.arrayContaining(['start', 'ready', 'eval:quiz', 'stop']),
    );
    expect(readFileSync(join(runDir, 'server.log'), 'utf8')).toContain('Application startup complete.');
    expectServerGone(runDir);
  });

  it('scores a wrong-answering model as wrong', async () => {
    const { file } = writeSimPlan({ eval: { limit: 5 }, sim: { VLLM_SIM_ACCURACY: '0' } });
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(0);
    const summary = readJson<Summary>(join(runDirFrom(result.all), 'summary.json'));
    expect(summary.evals[0]).toMatchObject({ num: 10, score: 0 });
    expectServerGone(summary.run_dir);
  });

  it('fails within seconds when vLLM dies while loading, quoting the fatal line', async () => {
    const { file } = writeSimPlan({
      sim: { VLLM_SIM_FAULT: 'crash_on_load:cuda_oom', VLLM_SIM_LOAD_TIME: '1' },
    });
    const started = Date.now();
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(1);
    // The simulator dies 1 s into its load; the rest is process start-up on a loaded CI machine.
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(result.all).toMatch(/exited with code 1 before it was ready/);
    expect(result.all).toMatch(/cause: .*CUDA out of memory/);
    expect(result.all).toMatch(/fix: /);
    expectServerGone(runDirFrom(result.all));
  });

  it('fails at startup_timeout with the log tail when vLLM never becomes ready', async () => {
    const { file } = writeSimPlan({ server: { startup_timeout: 2 }, sim: { VLLM_SIM_FAULT: 'never_ready' } });
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toContain('not ready after 2 s');
    expect(result.all).toContain('last lines of the server log');
    expectServerGone(runDirFrom(result.all));
  });

  it('fails the run when vLLM dies mid-evaluation, keeping the predictions made so far', async () => {
    const { file } = writeSimPlan({ eval: { concurrency: 2 }, sim: { VLLM_SIM_FAULT: 'crash_after:5' } });
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(1);
    const runDir = runDirFrom(result.all);
    const summary = readJson<Summary>(join(runDir, 'summary.json'));
    expect(summary.status).toBe('failed');
    expect(summary.error).toMatch(/vLLM exited during evaluation/);
    const predictions = readJsonLines<Prediction>(join(runDir, 'evals/quiz/predictions.jsonl'));
    expect(predictions.filter((p) => p.correct || p.extracted).length).toBeGreaterThanOrEqual(5);
    expectServerGone(runDir);
  });

  it('checks the dataset before starting vLLM: a missing folder costs no server start', async () => {
    const { file } = writeSimPlan({ eval: { dataset_path: '/nonexistent/iquiz' } });
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(1);
    expect(result.all).toContain('/nonexistent/iquiz');
    expect(result.all).not.toContain('started:');
    const manifest = readJson<{ server: { pid: number | null }; phases: Record<string, unknown> }>(
      join(runDirFrom(result.all), 'manifest.json'),
    );
    expect(manifest.server.pid).toBeNull();
    expect(Object.keys(manifest.phases)).toEqual(['datasets']);
  });

  it('rejects an invalid plan with exit 2 and starts nothing', async () => {
    const { file } = writeSimPlan({ server: { max_model_lenn: 1 } });
    const result = await startCli(['plan', file]);
    expect(result.exitCode).toBe(2);
    expect(result.all).toMatch(
      /plan\.yaml:\d+:\d+: server\.max_model_lenn: unknown key "max_model_lenn" \(did you mean "max_model_len"\?\)/,
    );
  });
});

/** 128 + the signal's number, as a shell reports a process the signal ended. */
const EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;

describe.concurrent('interruptions leave nothing running', () => {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${signal} during start-up: exit ${EXIT_CODES[signal]}, server group gone`, async () => {
      const { file } = writeSimPlan({ server: { stop_timeout: 5 }, sim: { VLLM_SIM_LOAD_TIME: '20' } });
      const run = startPlan(file);
      await waitFor(() => run.seen('vLLM start-up:'), 30_000, 'start-up');
      run.child.kill(signal);
      const result = await run.child;
      expect(result.exitCode, result.all).toBe(EXIT_CODES[signal]);
      expect(result.all).toContain(`${signal} received`);
      expectServerGone(runDirFrom(result.all));
    });

    it(`${signal} during evaluation: exit ${EXIT_CODES[signal]}, partial predictions kept, the resume command printed`, async () => {
      const { file } = writeSimPlan({ eval: { concurrency: 1 }, sim: { VLLM_SIM_TOKEN_LATENCY_MS: '10' } });
      const run = startPlan(file);
      await waitFor(() => run.seen(/ready at/), 30_000, 'readiness');
      const predictionsFile = join(run.runDir(), 'evals/quiz/predictions.jsonl');
      // A few answers, so that the interrupted row has figures of its own to check.
      await waitFor(
        () => existsSync(predictionsFile) && readFileSync(predictionsFile, 'utf8').split('\n').length > 3,
        30_000,
        'three predictions',
      );
      run.child.kill(signal);
      const result = await run.child;
      expect(result.exitCode, result.all).toBe(EXIT_CODES[signal]);
      const runDir = runDirFrom(result.all);
      const summary = readJson<Summary>(join(runDir, 'summary.json'));
      expect(summary).toMatchObject({ status: 'interrupted', exit_code: EXIT_CODES[signal] });
      const lines = readJsonLines<Prediction>(join(runDir, 'evals/quiz/predictions.jsonl'));
      expect(lines.length).toBeGreaterThan(0);
      expect(lines.length).toBeLessThan(40);
      expect(result.all).toContain(
        `${summary.samples?.done} of 40 samples done. To continue this run: evalrig plan ${file} --resume ${runDir}`,
      );
      // The row's figures are those of the answers saved before the signal, in every file that shows them.
      const answered = lines.length;
      const accuracy = lines.filter((line) => line.correct).length / answered;
      const score = formatScore(accuracy);
      expect(summary.samples?.done).toBe(answered);
      expect(summary.evals).toEqual([
        expect.objectContaining({ name: 'quiz', status: 'interrupted', num: answered, errors: 0 }),
      ]);
      expect(summary.evals[0]?.score).toBeCloseTo(accuracy, 12);
      const subsets = summary.evals[0]?.subsets ?? [];
      expect(subsets.reduce((sum, subset) => sum + subset.num, 0)).toBe(answered);
      expect(readFileSync(join(runDir, 'report.md'), 'utf8')).toContain(
        `| mean_acc | INTERRUPTED | ${answered} | ${score} | - | - |`,
      );
      const junit = readFileSync(join(runDir, 'junit.xml'), 'utf8');
      expect(junit).toContain(`score ${score} (`);
      expect(junit).toContain(`; ${answered} samples answered before the interruption, 0 failed requests`);
      expectServerGone(runDir);
    });
  }

  it('a second Ctrl-C skips the graceful wait when vLLM ignores SIGTERM', async () => {
    const { file } = writeSimPlan({
      server: { stop_timeout: 60 },
      sim: { VLLM_SIM_FAULT: 'ignore_sigterm', VLLM_SIM_TOKEN_LATENCY_MS: '10' },
    });
    const run = startPlan(file);
    await waitFor(() => run.seen(/ready at/), 30_000, 'readiness');
    run.child.kill('SIGINT');
    await waitFor(() => run.seen('SIGINT received'), 5_000, 'first interrupt');
    await new Promise((r) => setTimeout(r, 500));
    const secondAt = Date.now();
    run.child.kill('SIGINT');
    const result = await run.child;
    expect(Date.now() - secondAt).toBeLessThan(8_000);
    expect(result.exitCode, result.all).toBe(130);
    expect(result.all).toContain('killed with SIGKILL');
    expectServerGone(runDirFrom(result.all));
  });

  it('kills a server that ignores SIGTERM after stop_timeout', async () => {
    const { file } = writeSimPlan({
      server: { stop_timeout: 1 },
      eval: { limit: 2 },
      sim: { VLLM_SIM_FAULT: 'ignore_sigterm' },
    });
    const result = await startCli(['plan', file]);
    expect(result.exitCode, result.all).toBe(0);
    const summary = readJson<Summary>(join(runDirFrom(result.all), 'summary.json'));
    expect(summary.teardown).toMatchObject({ outcome: 'killed', verified: true });
    expectServerGone(summary.run_dir);
  });
});

describe('host preflight before plan', () => {
  it('stops with exit 4 before starting anything when the host cannot run the plan; --skip-preflight goes on', async () => {
    const { file, dir } = writeSimPlan();
    // A "real" vLLM (not the simulator) on a machine without a GPU: the preflight must refuse to start it.
    const fakeVllm = join(dir, 'vllm');
    writeFileSync(
      fakeVllm,
      '#!/bin/sh\nif [ "$1" = "--version" ]; then echo 0.11.0; exit 0; fi\necho "fake vllm: no GPU here" >&2\nexit 1\n',
    );
    chmodSync(fakeVllm, 0o755);
    const plan = readFileSync(file, 'utf8').replace(/executable: .*/, `executable: ${fakeVllm}`);
    writeFileSync(file, plan);
    const refused = await startCli(['plan', file]);
    expect(refused.exitCode, refused.all).toBe(4);
    expect(refused.all).toContain('Host preflight:');
    expect(refused.all).toMatch(/Preflight found \d+ error/);
    expect(refused.all).not.toContain('started:');

    const forced = await startCli(['plan', file, '--skip-preflight']);
    expect(forced.exitCode, forced.all).toBe(1);
    expect(forced.all).toContain('exited with code 1 before it was ready');
    expect(forced.all).toContain('fake vllm: no GPU here');
    expectServerGone(runDirFrom(forced.all));
  });
});

describe('evalrig killed with SIGKILL', () => {
  it('leaves a record that `evalrig cleanup` uses to stop the orphaned vLLM group', async () => {
    const { file, dir } = writeSimPlan({
      eval: { concurrency: 1 },
      sim: { VLLM_SIM_TOKEN_LATENCY_MS: '20' },
    });
    const env = withEmptySlurmQueue({ EVALRIG_CACHE: join(dir, 'cache') });
    const child = startCli(['plan', file], env);
    let output = '';
    child.all.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(() => output.includes('ready at'), 30_000, 'readiness');
    const runDir = /run directory (\S+)/.exec(output)?.[1] ?? '';
    const pgid = readJson<{ server: { pid: number } }>(join(runDir, 'manifest.json')).server.pid;
    child.kill('SIGKILL'); // no handler runs: vLLM is orphaned, as after the OOM killer
    await child;
    expect(groupAlive(pgid)).toBe(true);

    const listed = await startCli(['cleanup'], env);
    expect(listed.exitCode, listed.all).toBe(0);
    expect(listed.all).toContain(`group ${pgid}:`);
    expect(listed.all).toContain('Dry run: nothing was stopped or removed');
    expect(groupAlive(pgid)).toBe(true);

    const cleaned = await startCli(['cleanup', '--yes', '--grace', '5'], env);
    expect(cleaned.exitCode, cleaned.all).toBe(0);
    expect(cleaned.all).toContain(`process group ${pgid}: stopped`);
    expect(groupAlive(pgid)).toBe(false);
    expect((await startCli(['cleanup'], env)).all).toContain('No leftover local vLLM processes.');
  });
});
