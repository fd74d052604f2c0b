import { UserError } from '../errors.js';
import { parseCommandArgs, type Command } from './command.js';

const HELP = `Usage: evalrig validate <plan.yaml>... [--set PATH=VALUE]

Check plans without starting anything: every problem is printed with file:line:col and a hint, and the
server flags are checked against the vLLM version as plan --dry-run does (pinned, detected, or the image tag).
For \`backend: evalscope\` evaluations without a pinned \`version\`, the installed EvalScope's version is found
as the run finds it (the eval's executable with --version, else its Python's package metadata) and printed, as
it decides the command line; when none is found, a note says why and how to install or pin it (still valid).
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
    const { validatePlans } = await import('../run/validate.js');
    return validatePlans(positionals, values.set);
  },
};
