import { ExitCode, UserError } from '../errors.js';
import { loadPlan } from '../plan/load.js';
import { parseCommandArgs, type Command } from './command.js';

const HELP = `Usage: evalrig validate <plan.yaml>... [--set PATH=VALUE]

Check plans without starting anything: every problem is printed with file:line:col and a hint.
Exit codes: 0 all valid, 2 a plan is invalid.`;

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check plans and print every problem with file:line:col',
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs('validate', HELP, args, {
      set: { type: 'string', multiple: true },
    });
    if (positionals.length === 0)
      throw new UserError(`evalrig validate: give at least one plan file\n\n${HELP}`);
    let code: number = ExitCode.ok;
    for (const file of positionals) {
      try {
        const { plan } = loadPlan(file, { overrides: values.set });
        console.log(
          `${file}: ok (${plan.evals.length} evaluation${plan.evals.length === 1 ? '' : 's'}, runtime ${plan.server.runtime})`,
        );
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        console.error(error.message);
        code = ExitCode.invalidInput;
      }
    }
    return code;
  },
};
