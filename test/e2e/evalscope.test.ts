import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EvalContext } from '../../src/eval/evaluator.js';
import { evalscopeProgress } from '../../src/eval/evalscope/resume.js';
import { runEvalScope } from '../../src/eval/evalscope/run.js';
import { findEvalScopeVersion } from '../../src/eval/evalscope/version.js';
import type { Endpoint } from '../../src/eval/types.js';
import { EvalScopeEvalSchema } from '../../src/plan/schema.js';
import type { RunDisplay } from '../../src/util/display.js';
import { formatVersion } from '../../src/util/pep440.js';
import {
  freePort,
  killAllSims,
  pidsInGroup,
  SIM_MAIN,
  startReadySim,
  tempDir,
  type SimHandle,
} from '../sim/helpers.js';
import { expectServerGone, readJson, runDirFrom, startCli, waitFor, writeSimPlan } from './cli-helpers.js';
import { DEMO_QUIZ, ROOT } from '../paths.js';

// EvalScope's command run by evalrig, with the stand-in in place of EvalScope, against the vLLM simulator.

const STANDIN = join(ROOT, 'test/fixtures/evalscope-standin/evalscope');
const SERVED_MODEL = 'demo-model';
const KEY = 'sk-evalscope-e2e-secret';

let sim: SimHandle;

beforeAll(async () => {
  if (!existsSync(SIM_MAIN)) throw new Error(`${SIM_MAIN} is missing: run \`npm run build\` first`);
  sim = await startReadySim({
    args: ['--served-model-name', SERVED_MODEL, '--api-key', KEY],
    env: { VLLM_SIM_ANSWER_KEY: DEMO_QUIZ, VLLM_SIM_ACCURACY: '1' },
  });
});

afterAll(killAllSims);

function spec(settings: Record<string, unknown> = {}) {
  return EvalScopeEvalSchema.parse({
    name: 'es',
    backend: 'evalscope',
    datasets: ['iquiz'],
    eval_batch_size: 4,
    limit: 5,
    dataset_args: { iquiz: { local_path: DEMO_QUIZ } },
    executable: STANDIN,
    ...settings,
  });
}

function context(signal = new AbortController().signal): EvalContext & { lines: string[] } {
  const lines: string[] = [];
  const display: RunDisplay = {
    info: (message) => lines.push(message),
    warn: (message) => lines.push(message),
    phase: () => undefined,
    evalStart: () => undefined,
    evalProgress: () => undefined,
    evalEnd: () => undefined,
    close: () => undefined,
  };
  const evalDir = join(tempDir('evalscope-e2e-'), 'evals', 'es');
  mkdirSync(evalDir, { recursive: true });
  return { runDir: evalDir, evalDir, signal, display, mask: (text) => text, lines };
}

function endpoint(): Endpoint {
  return { baseUrl: `${sim.baseUrl}/v1`, servedModel: SERVED_MODEL, apiKey: KEY };
}

/** The stand-in's process group and its helper, as it logs them when told to hang or to go slowly. */
function standinProcesses(evalDir: string): { worker: number; group: number } {
  const log = join(evalDir, 'evalscope.log');
  const match = existsSync(log) ? /worker (\d+) group (\d+)/.exec(readFileSync(log, 'utf8')) : null;
  if (!match) throw new Error('the stand-in logged no process group');
  return { worker: Number(match[1]), group: Number(match[2]) };
}

function groupOf(evalDir: string): number {
  return standinProcesses(evalDir).group;
}

function withVersion(version: string, run: () => Promise<void>): () => Promise<void> {
  return async () => {
    process.env.EVALSCOPE_STANDIN_VERSION = version;
    try {
      await run();
    } finally {
      delete process.env.EVALSCOPE_STANDIN_VERSION;
    }
  };
}

/** Chat requests the simulator has answered so far, from its /metrics as vLLM counts them. */
async function requestsAnswered(): Promise<number> {
  const text = await (await fetch(`${sim.baseUrl}/metrics`)).text();
  return [...text.matchAll(/^vllm:request_success_total\{[^}]*\} (\S+)$/gm)].reduce(
    (sum, match) => sum + Number(match[1]),
    0,
  );
}

describe('EvalScope against the simulator', () => {
  it.each(['1.0.0', '1.4.0'])('finds version %s with --version', (version) =>
    withVersion(version, async () => {
      const found = await findEvalScopeVersion(spec());
      expect(found.source).toBe('--version');
      expect(formatVersion(found.version)).toBe(version);
    })(),
  );

  it("asks the package metadata of EvalScope's Python where 0.x has no --version", () =>
    withVersion('0.17.1', async () => {
      const found = await findEvalScopeVersion(spec({ executable: [STANDIN] }));
      expect(found.source).toBe('package metadata');
      expect(formatVersion(found.version)).toBe('0.17.1');
      expect((await findEvalScopeVersion(spec({ version: '0.17.1' }))).source).toBe('plan');
    })());

  it.each(['0.17.1', '1.0.0', '1.4.0'])(
    'evaluates with %s: every subset scored, progress shown, the key masked in the log',
    (version) =>
      withVersion(version, async () => {
        const ctx = context();
        const { version: found } = await findEvalScopeVersion(spec({ version }));
        const result = await runEvalScope(spec({ version }), found, endpoint(), ctx);
        expect(result).toMatchObject({ backend: 'evalscope', dataset: 'iquiz', num: 10, score: 1 });
        expect(result.subsets).toEqual([
          { name: 'IQ', num: 5, score: 1 },
          { name: 'EQ', num: 5, score: 1 },
        ]);
        expect(result.metric).toBe(version.startsWith('0.') ? 'AverageAccuracy' : 'mean_acc');
        const predictions = readFileSync(result.predictions_file, 'utf8').trim().split('\n');
        expect(predictions).toHaveLength(10);
        const log = readFileSync(join(ctx.evalDir, 'evalscope.log'), 'utf8');
        expect(log).toContain(
          version.startsWith('0.') ? '--eval-type service' : '--eval-type openai_api --eval-batch-size 4',
        );
        expect(log).toContain('--api-key ***');
        expect(log).not.toContain(KEY);
        // tqdm's label as each release prints it reaches the display.
        const label = version.startsWith('0.') ? 'Predicting(IQ)' : 'Predicting[iquiz@IQ]';
        expect(ctx.lines).toContain(`evalscope ${label}: 5/5`);
      })(),
  );

  it('fails with the reason and the fix: unknown dataset, rejected argument, not installed, connection refused', () =>
    withVersion('1.4.0', async () => {
      const version = (await findEvalScopeVersion(spec())).version;
      await expect(
        runEvalScope(spec({ datasets: ['iquizz'] }), version, endpoint(), context()),
      ).rejects.toThrow(/exited with 1[\s\S]*Benchmark iquizz not found[\s\S]*fix: "iquizz" is no benchmark/);
      const old = (await findEvalScopeVersion(spec({ version: '0.17.1' }))).version;
      await expect(runEvalScope(spec(), old, endpoint(), context())).rejects.toThrow(
        /exited with 2[\s\S]*invalid choice: 'service'[\s\S]*fix: .*version/,
      );
      await expect(
        runEvalScope(spec({ executable: '/nonexistent/evalscope' }), version, endpoint(), context()),
      ).rejects.toThrow(/not installed[\s\S]*fix: install EvalScope/);
      const closed = { ...endpoint(), baseUrl: `http://127.0.0.1:${await freePort()}/v1` };
      await expect(runEvalScope(spec(), version, closed, context())).rejects.toThrow(
        /Connection refused[\s\S]*fix:/,
      );
    })());

  it.each(['0.17.1', '1.0.0', '1.4.0'])(
    'resumed after an interruption, %s asks only the samples it had not answered (--use-cache)',
    (version) =>
      withVersion(version, async () => {
        const found = (await findEvalScopeVersion(spec({ version }))).version;
        const controller = new AbortController();
        const first = context(controller.signal);
        process.env.EVALSCOPE_STANDIN_SAMPLE_DELAY_MS = '150';
        try {
          const running = runEvalScope(spec({ version }), found, endpoint(), first);
          await waitFor(
            () => (evalscopeProgress(first.evalDir, found, ['iquiz']).done ?? 0) >= 3,
            30_000,
            'three saved answers',
          );
          controller.abort(new Error('stopped by SIGINT'));
          await expect(running).rejects.toThrow('stopped by SIGINT');
        } finally {
          delete process.env.EVALSCOPE_STANDIN_SAMPLE_DELAY_MS;
        }
        const saved = evalscopeProgress(first.evalDir, found, ['iquiz']);
        expect(saved.done).toBeGreaterThanOrEqual(3);
        expect(saved.done).toBeLessThan(10);
        expect(saved.resume).toContain('--use-cache');

        const before = await requestsAnswered();
        const resumed = { ...first, signal: new AbortController().signal, resume: true };
        const result = await runEvalScope(spec({ version }), found, endpoint(), resumed);
        expect(await requestsAnswered()).toBe(before + 10 - (saved.done ?? 0));
        expect(result).toMatchObject({ num: 10, score: 1 });
        expect(readFileSync(result.predictions_file, 'utf8').trim().split('\n')).toHaveLength(10);
        const log = readFileSync(join(first.evalDir, 'evalscope.log'), 'utf8');
        expect(log).toMatch(/--use-cache \S*evalscope-output/);
        expect(first.lines.join('\n')).toContain('EvalScope goes on from the answers it saved in');
      })(),
  );

  it('ends its process group on time-out and on abort', () =>
    withVersion('1.4.0', async () => {
      process.env.EVALSCOPE_STANDIN_HANG = '1';
      try {
        const version = (await findEvalScopeVersion(spec())).version;
        const timedOut = context();
        await expect(runEvalScope(spec({ timeout: 1 }), version, endpoint(), timedOut)).rejects.toThrow(
          /did not finish within 1 s/,
        );
        expect(pidsInGroup(groupOf(timedOut.evalDir))).toEqual([]);

        const controller = new AbortController();
        const aborted = context(controller.signal);
        const running = runEvalScope(spec(), version, endpoint(), aborted);
        const logged = (): boolean => {
          try {
            return standinProcesses(aborted.evalDir).group > 0;
          } catch {
            return false;
          }
        };
        await waitFor(logged, 15_000, 'the stand-in to start its worker');
        controller.abort(new Error('stopped by SIGINT'));
        await expect(running).rejects.toThrow('stopped by SIGINT');
        expect(pidsInGroup(groupOf(aborted.evalDir))).toEqual([]);
      } finally {
        delete process.env.EVALSCOPE_STANDIN_HANG;
      }
    })());
});

describe('backend: evalscope in a plan', () => {
  function writeMixedPlan(version: string): string {
    const { file } = writeSimPlan({
      evals: [
        { name: 'native', backend: 'native', dataset: 'iquiz', dataset_path: DEMO_QUIZ, limit: 3 },
        {
          name: 'es',
          backend: 'evalscope',
          datasets: ['iquiz'],
          limit: 3,
          dataset_args: { iquiz: { local_path: DEMO_QUIZ } },
          executable: STANDIN,
          version,
        },
      ],
      sim: { VLLM_SIM_ACCURACY: '1' },
    });
    return file;
  }

  it('--dry-run shows the command rendered for the pinned version, the key masked', async () => {
    const result = await startCli(['plan', writeMixedPlan('0.17.1'), '--dry-run']);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain('es: backend evalscope, command: ');
    expect(result.all).toContain('--eval-type service');
    expect(result.all).toContain('--api-key ***');
  });

  it('runs beside the native evaluator on the server evalrig started, one table for both', async () => {
    const result = await startCli(['plan', writeMixedPlan('1.0.0'), '--skip-preflight'], {
      EVALSCOPE_STANDIN_VERSION: '1.0.0',
    });
    expect(result.exitCode, result.all).toBe(0);
    const runDir = runDirFrom(result.all);
    const summary = readJson<{ evals: { name: string; backend: string; status: string; num: number }[] }>(
      join(runDir, 'summary.json'),
    );
    expect(summary.evals.map((e) => [e.name, e.backend, e.status])).toEqual([
      ['native', 'native', 'ok'],
      ['es', 'evalscope', 'ok'],
    ]);
    expect(summary.evals[1]?.num).toBeGreaterThan(0);
    expect(readFileSync(join(runDir, 'evals/es/evalscope.log'), 'utf8')).toContain('--eval-type openai_api');
    // Every answer is right, so both backends extract the same letters.
    expect(readFileSync(join(runDir, 'report.md'), 'utf8')).toContain(
      '## Native and EvalScope side by side\n\n- `native` and `es` on iquiz: 0 of 6 samples extracted differently',
    );
    expect(existsSync(join(runDir, 'evals/native/evalscope/reports/Qwen3-8B/iquiz.json'))).toBe(true);
    expectServerGone(runDir);
  });
});

describe('the installed EvalScope found before anything starts', () => {
  /** The stand-in's folder first on PATH: `evalscope` and the `python` beside it, as a virtual environment's bin/. */
  function installed(version: string): Record<string, string> {
    return {
      PATH: `${dirname(STANDIN)}${delimiter}${process.env['PATH'] ?? ''}`,
      EVALSCOPE_STANDIN_VERSION: version,
    };
  }

  /** Node and the system's tools, no EvalScope. */
  const NOT_INSTALLED = { PATH: [dirname(process.execPath), '/usr/bin', '/bin'].join(delimiter) };

  /** An EvalScope eval that names neither the executable nor the version: `evalscope` on PATH decides. */
  function writeUnpinnedPlan(): string {
    return writeSimPlan({
      evals: [
        {
          name: 'es',
          backend: 'evalscope',
          datasets: ['iquiz'],
          limit: 3,
          dataset_args: { iquiz: { local_path: DEMO_QUIZ } },
        },
      ],
    }).file;
  }

  it.each([
    ['0.17.1', '--eval-type service', "its Python's package metadata"],
    ['1.4.0', '--eval-type openai_api', 'evalscope --version'],
  ])(
    '--dry-run with EvalScope %s on PATH shows the command for that version',
    async (version, evalType, how) => {
      const result = await startCli(['plan', writeUnpinnedPlan(), '--dry-run'], installed(version));
      expect(result.exitCode, result.all).toBe(0);
      const command = result.all
        .split('\n')
        .find((line) => line.includes('es: backend evalscope, command: '));
      expect(command, result.all).toContain(`command: evalscope eval --model '<served model>' `);
      expect(command).toContain(` ${evalType} `);
      // Results straight in the work dir from 1.0; 0.x knows no such flag.
      expect(command?.includes(' --no-timestamp')).toBe(version !== '0.17.1');
      expect(result.all).toContain(`    note: EvalScope ${version} found by ${how}`);
      expect(result.all).not.toContain('which is unknown');
    },
  );

  it('--dry-run without EvalScope says so, with the fix, and shows the command of each release line', async () => {
    const result = await startCli(['plan', writeUnpinnedPlan(), '--dry-run'], NOT_INSTALLED);
    expect(result.exitCode, result.all).toBe(0);
    expect(result.all).toContain(
      'es: backend evalscope, command: depends on the EvalScope version, which is unknown',
    );
    expect(result.all).toContain(
      'note: the EvalScope version is unknown: EvalScope is not installed: evalscope: command not found',
    );
    expect(result.all).toMatch(/note: fix: install EvalScope .*or pin the eval's `version:`/);
    expect(result.all).toMatch(/before 1\.0\.0: evalscope eval .* --eval-type service /);
    expect(result.all).toMatch(/from 1\.0\.0: evalscope eval .* --eval-type openai_api .* --no-timestamp/);
  });

  it('validate reports the version found, or why there is none, and passes either way', async () => {
    const file = writeUnpinnedPlan();
    const found = await startCli(['validate', file], installed('0.17.1'));
    expect(found.exitCode, found.all).toBe(0);
    expect(found.all).toContain("  es: EvalScope 0.17.1 found by its Python's package metadata");
    const missing = await startCli(['validate', file], NOT_INSTALLED);
    expect(missing.exitCode, missing.all).toBe(0);
    expect(missing.all).toContain(`${file}: ok (1 evaluation, runtime local)`);
    expect(missing.all).toContain('  es: the EvalScope version is unknown: EvalScope is not installed');
    expect(missing.all).toMatch(/ {2}es: fix: install EvalScope/);
  });

  it.each([['plan', '--dry-run'], ['validate']])(
    'a Ctrl-C while `evalrig %s` asks EvalScope its version exits 130 at once, the probe killed',
    async (...command) => {
      const bin = tempDir('evalscope-hung-');
      const hung = join(bin, 'evalscope');
      // An `evalscope --version` stuck in its imports.
      writeFileSync(hung, `#!/bin/sh\necho $$ > "$0.pid"\nexec sleep 60\n`);
      chmodSync(hung, 0o755);
      const [verb = '', ...flags] = command;
      const child = startCli([verb, writeUnpinnedPlan(), ...flags], {
        PATH: `${bin}${delimiter}${process.env['PATH'] ?? ''}`,
      });
      await waitFor(() => existsSync(`${hung}.pid`), 30_000, 'the version question');
      const sentAt = Date.now();
      child.kill('SIGINT');
      const result = await child;
      expect(Date.now() - sentAt).toBeLessThan(5_000);
      expect(result.exitCode, result.all).toBe(130);
      expect(result.all).toMatch(/Interrupted \(SIGINT\)/);
      expect(pidsInGroup(Number(readFileSync(`${hung}.pid`, 'utf8')))).toEqual([]);
    },
  );
});

describe('a Ctrl-C through the command line while EvalScope runs', () => {
  it('exits 130 with the EvalScope group and the server gone, the interruption reported, the log kept', async () => {
    const { file } = writeSimPlan({
      evals: [
        {
          name: 'es',
          backend: 'evalscope',
          datasets: ['iquiz'],
          dataset_args: { iquiz: { local_path: DEMO_QUIZ } },
          executable: STANDIN,
        },
      ],
    });
    const child = startCli(['plan', file, '--skip-preflight'], {
      EVALSCOPE_STANDIN_VERSION: '1.4.0',
      EVALSCOPE_STANDIN_SAMPLE_DELAY_MS: '300',
    });
    let output = '';
    child.all.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // EvalScope's first progress line has reached the display: the child is mid-run.
    await waitFor(() => output.includes('evalscope Predicting[iquiz@IQ]: '), 60_000, 'EvalScope progress');
    const runDir = /run directory (\S+)/.exec(output)?.[1] ?? '';
    const evalDir = join(runDir, 'evals/es');
    const { worker, group } = standinProcesses(evalDir);
    expect(pidsInGroup(group)).toContain(worker);
    child.kill('SIGINT');
    const result = await child;
    expect(result.exitCode, result.all).toBe(130);
    expect(result.all).toContain('SIGINT received');
    expect(pidsInGroup(group)).toEqual([]);
    expectServerGone(runDir);
    const summary = readJson<{
      status: string;
      exit_code: number;
      error: string;
      samples: unknown;
      evals: { name: string; status: string; error: string }[];
      eval_progress: { name: string; done: number | null; total: number | null; resume: string }[];
    }>(join(runDir, 'summary.json'));
    expect(summary).toMatchObject({ status: 'interrupted', exit_code: 130, error: 'stopped by SIGINT' });
    // EvalScope reads its own dataset: no sample count is made up, and the eval says what a resume does.
    expect(summary.samples).toBeNull();
    expect(summary.evals).toMatchObject([{ name: 'es', status: 'interrupted', error: 'stopped by SIGINT' }]);
    const [progress] = summary.eval_progress;
    expect(progress).toMatchObject({ name: 'es', total: null });
    expect(progress?.done).toBeGreaterThan(0);
    expect(progress?.resume).toContain(`EvalScope saved ${progress?.done} answers`);
    const report = readFileSync(join(runDir, 'report.md'), 'utf8');
    expect(report).toMatch(/^# e2e: INTERRUPTED\n[\s\S]*stopped by SIGINT/);
    expect(report).not.toContain('samples done');
    expect(report).toContain(
      `  - es: EvalScope saved ${progress?.done} answers: a resume hands them to --use-cache`,
    );
    expect(report).toMatch(/iquiz \(es\).*INTERRUPTED/);
    expect(readFileSync(join(runDir, 'junit.xml'), 'utf8')).toContain(
      'evaluation interrupted: stopped by SIGINT',
    );
    const log = readFileSync(join(evalDir, 'evalscope.log'), 'utf8');
    expect(log).toMatch(/^\$ .*evalscope eval .*--eval-type openai_api/);
    expect(log).toContain('Predicting[iquiz@IQ]: ');

    // The resume hands EvalScope its saved answers and ends ok with every sample scored.
    const resumed = await startCli(['plan', file, '--skip-preflight', '--resume', runDir], {
      EVALSCOPE_STANDIN_VERSION: '1.4.0',
    });
    expect(resumed.exitCode, resumed.all).toBe(0);
    const resumedLog = readFileSync(join(evalDir, 'evalscope.log'), 'utf8');
    expect(resumedLog).toContain(`--use-cache ${join(evalDir, 'evalscope-output')}`);
    expect(resumedLog).toMatch(/Reusing predictions from .*iquiz_IQ\.jsonl, got [1-9]\d* predictions/);
    const final = readJson<{ status: string; evals: { status: string; num: number }[] }>(
      join(runDir, 'summary.json'),
    );
    expect(final.status).toBe('ok');
    expect(final.evals).toMatchObject([{ status: 'ok' }]);
    expectServerGone(runDir);
  });
});
