import { EXIT_CODE_MEANINGS, UserError } from '../errors.js';
import type { RunReporter } from '../run/reporter.js';
import { parseCommandArgs, type Command } from './command.js';

const EXIT_CODES = EXIT_CODE_MEANINGS.map(([code, meaning]) => `  ${String(code).padEnd(5)}${meaning}`).join(
  '\n',
);

const HELP = `Usage: evalrig plan <plan.yaml> [options]

Start vLLM as the plan says, wait until it is ready, run the evaluations, write the reports, and tear the
server down on every path.

Options:
  --output-dir DIR   write the run directory under DIR instead of the plan's output.dir
  --set PATH=VALUE   override a plan value, e.g. --set server.max_model_len=16384 --set evals[0].limit=10
  --only NAME        run only this evaluation (repeatable)
  --resume RUN_DIR   continue a run that ended early, in its own folder: only the samples without an answer are
                     asked, matrix variants that ended ok are not run again. RUN_DIR is the run directory it
                     printed, or latest (the newest run of this plan). Refused when the evaluations, the served
                     model or the data changed since that run began.
  --dry-run          print what would run (vllm serve argv, env, evaluations), secrets masked; start nothing
  --skip-preflight   start even when the host checks (evalrig doctor) find errors
  -h, --help         show this help

Exit codes:
${EXIT_CODES}`;

const OPTIONS = {
  'output-dir': { type: 'string' },
  set: { type: 'string', multiple: true },
  only: { type: 'string', multiple: true },
  resume: { type: 'string' },
  'dry-run': { type: 'boolean' },
  'skip-preflight': { type: 'boolean' },
} as const;

/** Report files, the console table and the plan's notifications: loaded for a run only, never for a dry run. */
async function fileReporter(): Promise<RunReporter> {
  const [{ withNotifications }, { consoleAndFileReporter }] = await Promise.all([
    import('../notify/send.js'),
    import('../report/reporter.js'),
  ]);
  return withNotifications(consoleAndFileReporter);
}

export const planCommand: Command = {
  name: 'plan',
  summary: 'run a plan: start vLLM, evaluate, report, tear down',
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs('plan', HELP, args, OPTIONS);
    const [file, ...extra] = positionals;
    if (!file || extra.length > 0)
      throw new UserError(`evalrig plan: expected exactly one plan file\n\n${HELP}`);
    if (values.resume !== undefined && values['dry-run'])
      throw new UserError(
        'evalrig plan: --resume and --dry-run do not go together: a dry run starts nothing.',
      );
    const dryRun = values['dry-run'] === true;
    const { executePlan } = await import('../run/execute-plan.js');
    return executePlan(
      {
        file,
        overrides: values.set,
        only: values.only,
        outputDir: values['output-dir'],
        resume: values.resume,
        dryRun,
        skipPreflight: values['skip-preflight'] === true,
      },
      fileReporter,
    );
  },
};
