import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { EvalResult, PredictionRecord } from '../../src/eval/types.js';
import type { Manifest } from '../../src/run/manifest.js';
import type { MatrixSummary, RunSummary } from '../../src/run/summary.js';
import {
  expectServerGone,
  groupAlive,
  readJson,
  readJsonLines,
  runDirFrom,
  startCli,
  writeSimPlan,
} from './cli-helpers.js';
import { DEMO_QUIZ } from '../paths.js';

/** `evalrig plan FILE --resume DIR` and everything else the run printed to continue it, as the CLI's arguments. */
function resumeArguments(output: string): string[] {
  const command = /To continue this run: evalrig (.+)$/m.exec(output)?.[1];
  if (!command) throw new Error(`no command to continue the run in the output:\n${output}`);
  // Temporary paths need no quoting, so the words are the arguments.
  return command.split(' ');
}

/** Every attempt's server group must be empty, not only the latest one's. */
function expectEveryServerGone(runDir: string): void {
  for (const attempt of readJson<Manifest>(join(runDir, 'manifest.json')).attempts)
    if (attempt.server_pid !== null) expect(groupAlive(attempt.server_pid)).toBe(false);
  expectServerGone(runDir);
}

/** The distinct sample ids in an evaluation's predictions. */
function idsOf(runDir: string, evalName = 'quiz'): Set<string> {
  return new Set(
    readJsonLines<PredictionRecord>(join(runDir, 'evals', evalName, 'predictions.jsonl')).map((p) => p.id),
  );
}

const manifestText = (runDir: string) => readFileSync(join(runDir, 'manifest.json'), 'utf8');

describe.concurrent('evalrig plan --resume against the simulator as vllm', () => {
  it('continues a run that vLLM crashed with the command it printed: every sample exactly once', async () => {
    const { file } = writeSimPlan({ eval: { concurrency: 2 } });
    const crashed = await startCli(['plan', file, '--skip-preflight'], { VLLM_SIM_FAULT: 'crash_after:5' });
    expect(crashed.exitCode, crashed.all).toBe(1);
    const runDir = runDirFrom(crashed.all);
    expect(crashed.all).toMatch(
      new RegExp(
        `(\\d+) of 40 samples done\\. To continue this run: evalrig plan ${file} --skip-preflight --resume ${runDir}$`,
        'm',
      ),
    );
    const done = readJson<RunSummary>(join(runDir, 'summary.json')).samples?.done ?? 0;
    expect(done).toBeGreaterThanOrEqual(5);
    expect(done).toBeLessThan(40);
    expectServerGone(runDir);

    const resumed = await startCli(resumeArguments(crashed.all));
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(runDirFrom(resumed.all)).toBe(runDir);
    expect(resumed.all).toContain(`resuming run directory ${runDir} (attempt 2)`);
    expect(resumed.all).toMatch(/OVERALL\s*│\s*40\s*│/);
    expect(resumed.all).not.toContain('To continue this run');
    expect(idsOf(runDir).size).toBe(40);
    const summary = readJson<RunSummary>(join(runDir, 'summary.json'));
    expect(summary).toMatchObject({
      status: 'ok',
      exit_code: 0,
      attempt: 2,
      samples: { done: 40, total: 40 },
      resume_command: null,
    });
    expect(summary.evals[0]?.num).toBe(40);
    const result = readJson<EvalResult>(join(runDir, 'evals/quiz/result.json'));
    expect(result).toMatchObject({ num: 40, resumed: done });
    expect(readFileSync(join(runDir, 'report.md'), 'utf8')).toContain('attempt 2 (resumed)');
    const manifest = readJson<Manifest>(join(runDir, 'manifest.json'));
    expect(manifest.attempts.map((a) => [a.status, a.exit_code])).toEqual([
      ['failed', 1],
      ['ok', 0],
    ]);
    for (const attempt of manifest.attempts)
      expect(Object.keys(attempt.phases)).toEqual(expect.arrayContaining(['start', 'ready', 'stop']));
    expectEveryServerGone(runDir);
  });

  it('refuses a plan changed in what decides the results, naming the change and leaving the run as it was', async () => {
    const { file } = writeSimPlan({ eval: { limit: 2, concurrency: 1 } });
    const crashed = await startCli(['plan', file, '--skip-preflight'], { VLLM_SIM_FAULT: 'crash_after:1' });
    expect(crashed.exitCode, crashed.all).toBe(1);
    const runDir = runDirFrom(crashed.all);
    const before = manifestText(runDir);
    writeFileSync(file, readFileSync(file, 'utf8').replace('temperature: 0.6', 'temperature: 0.7'));

    const refused = await startCli(['plan', file, '--skip-preflight', '--resume', 'latest']);
    expect(refused.exitCode, refused.all).toBe(2);
    expect(refused.all).toContain(`Cannot resume ${runDir}`);
    expect(refused.all).toContain('  evals[0].generation.temperature: 0.6 in the run, 0.7 now');
    expect(refused.all).toContain(`start a fresh run instead: evalrig plan ${file} --skip-preflight`);
    expect(refused.all).not.toContain('started:');
    expect(manifestText(runDir)).toBe(before);
    expectEveryServerGone(runDir);
  });

  it('refuses data whose checksum changed since the run began, before the server starts', async () => {
    const { file } = writeSimPlan({ eval: { limit: 2, concurrency: 1 } });
    const quiz = join(mkdtempSync(join(tmpdir(), 'evalrig-quiz-')), 'quiz');
    cpSync(DEMO_QUIZ, quiz, { recursive: true });
    writeFileSync(
      file,
      readFileSync(file, 'utf8').replaceAll(`dataset_path: ${DEMO_QUIZ}`, `dataset_path: ${quiz}`),
    );
    const crashed = await startCli(['plan', file, '--skip-preflight'], { VLLM_SIM_FAULT: 'crash_after:1' });
    expect(crashed.exitCode, crashed.all).toBe(1);
    const runDir = runDirFrom(crashed.all);
    const before = manifestText(runDir);
    writeFileSync(
      join(quiz, 'EQ.jsonl'),
      readFileSync(join(quiz, 'EQ.jsonl'), 'utf8').replace(/\n$/, '\n\n'),
    );

    const refused = await startCli(resumeArguments(crashed.all));
    expect(refused.exitCode, refused.all).toBe(2);
    expect(refused.all).toMatch(
      /evals\[0\] \(quiz\) dataset file EQ\.jsonl: sha256 [0-9a-f]{12}… in the run, sha256 [0-9a-f]{12}… now/,
    );
    expect(refused.all).not.toContain('started:');
    expect(manifestText(runDir)).toBe(before);
    expectEveryServerGone(runDir);
  });

  it('--resume latest continues the newest run of the plan', async () => {
    const { file } = writeSimPlan({ eval: { limit: 2, concurrency: 1 } });
    const older = await startCli(['plan', file, '--skip-preflight']);
    expect(older.exitCode, older.all).toBe(0);
    const newer = await startCli(['plan', file, '--skip-preflight'], { VLLM_SIM_FAULT: 'crash_after:1' });
    expect(newer.exitCode, newer.all).toBe(1);
    const newerDir = runDirFrom(newer.all);

    const resumed = await startCli(['plan', file, '--skip-preflight', '--resume', 'latest']);
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(resumed.all).toContain(`resuming run directory ${newerDir} (attempt 2)`);
    expect(idsOf(newerDir).size).toBe(4);
    expect(readJson<Manifest>(join(runDirFrom(older.all), 'manifest.json')).attempts).toHaveLength(1);
    expectEveryServerGone(runDirFrom(older.all));
    expectEveryServerGone(newerDir);
  });

  it('a matrix resumes only the variant that did not end ok', async () => {
    const { file } = writeSimPlan({ eval: { limit: 2, concurrency: 1 } });
    const plan = readFileSync(file, 'utf8');
    const matrix = (fault: string) =>
      [
        'matrix:',
        '  - name: first',
        '    set: { server.seed: 1 }',
        '  - name: second',
        `    set: { server.seed: 2${fault} }`,
        '',
      ].join('\n');
    writeFileSync(file, plan + matrix(', server.env.VLLM_SIM_FAULT: "crash_after:1"'));
    const crashed = await startCli(['plan', file, '--skip-preflight']);
    expect(crashed.exitCode, crashed.all).toBe(1);
    const matrixDir = runDirFrom(crashed.all);
    expect(
      readJson<MatrixSummary>(join(matrixDir, 'summary.json')).variants.map((v) => v.summary.status),
    ).toEqual(['ok', 'failed']);
    expect(crashed.all).toContain(
      `To continue this run: evalrig plan ${file} --skip-preflight --resume ${matrixDir}`,
    );

    // The fault is no setting of the evaluation: the same matrix, now on a healthy server.
    writeFileSync(file, plan + matrix(''));
    const resumed = await startCli(resumeArguments(crashed.all));
    expect(resumed.exitCode, resumed.all).toBe(0);
    expect(resumed.all).toContain('matrix variant first: ended ok in an earlier attempt, not run again');
    expect(resumed.all).toContain(`resuming run directory ${join(matrixDir, 'second')} (attempt 2)`);
    const summary = readJson<MatrixSummary>(join(matrixDir, 'summary.json'));
    expect(summary).toMatchObject({ status: 'ok', exit_code: 0, resume_command: null });
    expect(summary.variants.map((v) => [v.name, v.summary.status, v.summary.evals[0]?.num])).toEqual([
      ['first', 'ok', 4],
      ['second', 'ok', 4],
    ]);
    expect(readJson<Manifest>(join(matrixDir, 'first/manifest.json')).attempts).toHaveLength(1);
    expect(readJson<Manifest>(join(matrixDir, 'second/manifest.json')).attempts).toHaveLength(2);
    expect(idsOf(join(matrixDir, 'second')).size).toBe(4);
    expectEveryServerGone(join(matrixDir, 'first'));
    expectEveryServerGone(join(matrixDir, 'second'));
  });
});
