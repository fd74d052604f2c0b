/**
 * The error classes and exit codes every layer uses. Imports nothing of evalrig's, so that any module can throw
 * an error written for people without reaching up into the command line.
 */

/** Exit codes shared by every command. */
export const ExitCode = {
  ok: 0,
  runFailed: 1,
  invalidInput: 2,
  interrupted: 130,
} as const;

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

/** The run was stopped by a signal (Ctrl-C, SIGTERM, SIGHUP): teardown runs, exit code 130. */
export class InterruptedError extends Error {
  constructor(readonly signal: StopSignal) {
    super(`stopped by ${signal}`);
    this.name = 'InterruptedError';
  }
}
