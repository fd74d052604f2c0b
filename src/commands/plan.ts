import { UserError } from '../errors.js';
import { consoleAndFileReporter } from '../report/reporter.js';
import { executePlan } from '../run/execute-plan.js';
import { parseCommandArgs, type Command } from './command.js';

const HELP = `Usage: evalrig plan <plan.yaml> [options]

Start vLLM as the plan says, wait until it is ready, run the evaluations, write the reports, and tear the
server down on every path.

Options:
  --output-dir DIR   write the run directory under DIR instead of the plan's output.dir
  --set PATH=VALUE   override a plan value, e.g. --set server.max_model_len=16384 --set evals[0].limit=10
  --only NAME        run only this evaluation (repeatable)
  --dry-run          print what would run (vllm serve argv, env, evaluations), secrets masked; start nothing
  --skip-preflight   start even when the host checks (evalrig doctor) find errors
  -h, --help         show this help

Exit codes: 0 success, 1 the run failed, 2 the plan or the command line is invalid, 130 interrupted.`;

const OPTIONS = {
  'output-dir': { type: 'string' },
  set: { type: 'string', multiple: true },
  only: { type: 'string', multiple: true },
  'dry-run': { type: 'boolean' },
  'skip-preflight': { type: 'boolean' },
} as const;

export const planCommand: Command = {
  name: 'plan',
  summary: 'run a plan: start vLLM, evaluate, report, tear down',
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs('plan', HELP, args, OPTIONS);
    const [file, ...extra] = positionals;
    if (!file || extra.length > 0)
      throw new UserError(`evalrig plan: expected exactly one plan file\n\n${HELP}`);
    return executePlan(
      {
        file,
        overrides: values.set,
        only: values.only,
        outputDir: values['output-dir'],
        dryRun: values['dry-run'] === true,
        skipPreflight: values['skip-preflight'] === true,
      },
      consoleAndFileReporter,
    );
  },
};
