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
});
