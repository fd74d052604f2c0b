/**
 * The error classes and exit codes every layer uses. Imports nothing of evalrig's, so that any module can throw
 * an error written for people without reaching up into the command line.
 */

/**
 * Exit codes shared by every command, as nightly schedulers read them. A failed gate (3) is told apart from a failed
 * run (1): the run worked and its figures missed a threshold. A signal gives 128 + its number, as a shell reports a
 * process the signal ended.
 */
export const ExitCode = {
  ok: 0,
  runFailed: 1,
  invalidInput: 2,
  gateFailed: 3,
  preflightRefused: 4,
  SIGHUP: 129,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

/** What each exit code means, in the order `--help` and the README list them. */
export const EXIT_CODE_MEANINGS: readonly (readonly [code: number, meaning: string])[] = [
  [ExitCode.ok, 'success'],
  [ExitCode.runFailed, 'the run failed (server start, an evaluation, requests, or the teardown)'],
  [ExitCode.invalidInput, 'the plan or the command line is invalid, or --resume was refused'],
  [ExitCode.gateFailed, 'the run ended ok but a gate failed (the verdict names it; docs/gates.md)'],
  [ExitCode.preflightRefused, 'the host preflight refused to start (evalrig doctor shows why)'],
  [ExitCode.SIGHUP, 'stopped by SIGHUP'],
  [ExitCode.SIGINT, 'stopped by SIGINT (Ctrl-C)'],
  [ExitCode.SIGTERM, 'stopped by SIGTERM'],
];

/** An error whose message is written for the user as it is (no stack trace), with the exit code to use. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.invalidInput,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** The run was stopped by a signal (Ctrl-C, SIGTERM, SIGHUP): teardown runs, then the signal's exit code. */
export class InterruptedError extends Error {
  constructor(readonly signal: StopSignal) {
    super(`stopped by ${signal}`);
    this.name = 'InterruptedError';
  }

  get exitCode(): number {
    return ExitCode[this.signal];
  }
}
