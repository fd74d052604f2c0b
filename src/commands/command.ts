import { UserError } from '../errors.js';
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A sub-command of `evalrig`: parses its own arguments and returns the process exit code. */
export interface Command {
  name: string;
  summary: string;
  /** Printed for `evalrig <name> --help` (handled by the dispatcher) and after command-line errors. */
  help: string;
  run(args: string[]): Promise<number>;
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
