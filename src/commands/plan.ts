import { parseArgs } from 'node:util';
import { loadPlan, selectEvals } from '../plan/load.js';
import { createDisplay } from '../report/display.js';
import { renderConsoleTable } from '../report/table.js';
import { runPlan } from '../run.js';
import { ExitCode, UserError, type Command } from './command.js';

const HELP = `Usage: evalrig plan <plan.yaml> [options]

Start vLLM as the plan says, wait until it is ready, run the evaluations, write the reports, and tear the
server down on every path.

Options:
  --output-dir DIR   write the run directory under DIR instead of the plan's output.dir
  --set PATH=VALUE   override a plan value, e.g. --set server.max_model_len=16384 --set evals[0].limit=10
  --only NAME        run only this evaluation (repeatable)
  -h, --help         show this help

Exit codes: 0 success, 1 the run failed, 2 the plan or the command line is invalid, 130 interrupted.`;

export const planCommand: Command = {
  name: 'plan',
  summary: 'run a plan: start vLLM, evaluate, report, tear down',
  async run(args) {
    let parsed;
    try {
      parsed = parseArgs({
        args,
        allowPositionals: true,
        options: {
          'output-dir': { type: 'string' },
          set: { type: 'string', multiple: true },
          only: { type: 'string', multiple: true },
          help: { type: 'boolean', short: 'h' },
        },
      });
    } catch (error) {
      throw new UserError(`evalrig plan: ${(error as Error).message}\n\n${HELP}`);
    }
    if (parsed.values.help) {
      console.log(HELP);
      return ExitCode.ok;
    }
    const [file, ...extra] = parsed.positionals;
    if (!file || extra.length > 0) throw new UserError(`evalrig plan: expected exactly one plan file\n\n${HELP}`);

    const loaded = loadPlan(file, { overrides: parsed.values.set });
    loaded.plan = selectEvals(loaded.plan, parsed.values.only);
    const display = createDisplay();
    const summary = await runPlan(loaded, { outputDir: parsed.values['output-dir'], display });
    display.close();

    if (summary.evals.length > 0) console.log(renderConsoleTable(summary));
    if (summary.error) console.error(`\n${summary.status === 'interrupted' ? 'Interrupted' : 'Run failed'}: ${summary.error}`);
    console.log(`\nRun directory: ${summary.run_dir}`);
    return summary.exit_code;
  },
};
