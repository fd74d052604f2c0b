/** Exit codes shared by every command. */
export const ExitCode = {
  ok: 0,
  runFailed: 1,
  invalidInput: 2,
  interrupted: 130,
} as const;

/** A sub-command of `evalrig`: parses its own arguments and returns the process exit code. */
export interface Command {
  name: string;
  summary: string;
  run(args: string[]): Promise<number>;
}

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
