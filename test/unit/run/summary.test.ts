import { describe, expect, it } from 'vitest';
import { ExitCode, InterruptedError } from '../../../src/errors.js';
import { summarizeMatrix, type RunSummary } from '../../../src/run/summary.js';

const variant = (name: string, status: RunSummary['status'], exit_code: number) => ({
  name,
  summary: { status, exit_code } as RunSummary,
});

describe('exit codes', () => {
  it('gives a signal 128 + its number', () => {
    expect(new InterruptedError('SIGHUP').exitCode).toBe(129);
    expect(new InterruptedError('SIGINT').exitCode).toBe(130);
    expect(new InterruptedError('SIGTERM').exitCode).toBe(143);
  });

  it("gives a matrix its worst variant's code, or the signal that stopped it, and the command to go on", () => {
    const context = { resumeCommand: 'evalrig plan m.yaml --resume out/m/1' };
    expect(summarizeMatrix('m', 'out/m/1', [variant('a', 'ok', 0)], context)).toMatchObject({
      status: 'ok',
      exit_code: ExitCode.ok,
      resume_command: null,
    });
    expect(
      summarizeMatrix('m', 'out/m/1', [variant('a', 'ok', 0), variant('b', 'failed', 1)], context),
    ).toMatchObject({ status: 'failed', exit_code: 1, resume_command: context.resumeCommand });
    const stopped = summarizeMatrix('m', 'out/m/1', [variant('a', 'ok', 0)], {
      ...context,
      interruption: new InterruptedError('SIGTERM'),
    });
    expect(stopped).toMatchObject({ status: 'interrupted', exit_code: 143 });
  });

  it('names the failed variants and those never started; a failure outranks a failed gate', () => {
    const matrix = summarizeMatrix(
      'm',
      'out/m/1',
      [
        variant('a', 'failed', 1),
        variant('b', 'ok', 3),
        variant('c', 'interrupted', 130),
        variant('d', 'failed', 1),
      ],
      {
        resumeCommand: 'evalrig plan m.yaml --resume out/m/1',
        maxParallel: 3,
        notStarted: ['e'],
        durationS: 12.5,
        interruption: new InterruptedError('SIGINT'),
      },
    );
    expect(matrix).toMatchObject({
      status: 'interrupted',
      exit_code: 130,
      max_parallel: 3,
      failed: ['a', 'd'],
      not_started: ['e'],
      duration_s: 12.5,
    });
    const gated = summarizeMatrix('m', 'out/m/1', [variant('a', 'ok', 3), variant('b', 'failed', 1)], {
      resumeCommand: 'evalrig plan m.yaml --resume out/m/1',
    });
    expect(gated).toMatchObject({ exit_code: 1, failed: ['b'], not_started: [], max_parallel: 1 });
  });
});
