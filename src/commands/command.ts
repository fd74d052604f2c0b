import { parseArgs, type ParseArgsConfig } from 'node:util';

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
  /** Printed for `evalrig <name> --help` (handled by the dispatcher) and after command-line errors. */
  help: string;
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

/** node:util parseArgs with the command's help attached to any command-line error (exit 2). */
export function parseCommandArgs<T extends ParseArgsConfig['options']>(
  command: string,
  help: string,
  args: string[],
  options: T,
  allowPositionals = true,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UserError(`evalrig ${command}: ${(error as Error).message}\n\n${help}`);
  }
}
