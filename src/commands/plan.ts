import { parseArgs } from 'node:util';
import { runPreflight } from './doctor.js';
import { countByStatus } from '../host/checks.js';
import { renderChecksTable } from '../host/report.js';
import { loadPlan, selectEvals, type LoadedPlan } from '../plan/load.js';
import { secretMasker } from '../plan/secrets.js';
import { createDisplay } from '../report/display.js';
import { renderConsoleTable } from '../report/table.js';
import { runPlan } from '../run.js';
import { displayServeArgv, prepareServe, type ServePlan } from '../run/prepare.js';
import { buildServerEnv } from '../server/vllm-args.js';
import { formatVersion } from '../server/vllm-version.js';
import { ExitCode, UserError, type Command } from './command.js';

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

function parse(args: string[]) {
  try {
    return parseArgs({
      args,
      allowPositionals: true,
      options: {
        'output-dir': { type: 'string' },
        set: { type: 'string', multiple: true },
        only: { type: 'string', multiple: true },
        'dry-run': { type: 'boolean' },
        'skip-preflight': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UserError(`evalrig plan: ${(error as Error).message}\n\n${HELP}`);
  }
}

/** Everything --dry-run shows: what would start, with which environment, and what would be evaluated. */
function printDryRun(loaded: LoadedPlan, serve: ServePlan): void {
  const mask = secretMasker(loaded.secrets);
  const { server } = serve;
  const lines = [`Plan ${loaded.plan.name} (${loaded.file}), dry run: nothing is started.`, ''];
  if (server.runtime === 'external') {
    lines.push(`server: external endpoint ${server.base_url} (not started, not stopped)`);
  } else {
    lines.push(`vLLM version: ${formatVersion(serve.version)} (${serve.versionSource})`);
    for (const notice of serve.notices) lines.push(`notice: ${notice}`);
    lines.push(`runtime: ${server.runtime}`, `command: ${displayServeArgv(loaded, serve, server.port).join(' ')}`);
    const env = Object.entries(buildServerEnv(server));
    lines.push(env.length > 0 ? 'env:' : 'env: (inherited only)', ...env.map(([k, v]) => `  ${k}=${v}`));
    if (server.runtime === 'docker') lines.push(`docker: ${JSON.stringify(server.docker)}`);
    lines.push(`startup_timeout: ${server.startup_timeout} s, stop_timeout: ${server.stop_timeout} s`);
  }
  lines.push('', 'evaluations:');
  for (const spec of loaded.plan.evals) {
    lines.push(
      `  - ${spec.name}: backend ${spec.backend}, dataset ${spec.dataset}${spec.dataset_path ? ` (${spec.dataset_path})` : ' (download from ModelScope)'}` +
        `, concurrency ${spec.concurrency}${spec.limit ? `, limit ${spec.limit} per subset` : ''}`,
      `    generation: ${JSON.stringify(spec.generation)}`,
    );
  }
  console.log(mask(lines.join('\n')));
}

async function preflight(loaded: LoadedPlan): Promise<void> {
  const results = await runPreflight(loaded.plan, { planDir: loaded.dir });
  const counts = countByStatus(results);
  const noteworthy = results.filter((r) => r.status === 'error' || r.status === 'warning');
  if (noteworthy.length > 0) console.error(`Host preflight:\n${renderChecksTable(noteworthy)}\n`);
  if (counts.error > 0) {
    throw new UserError(`Preflight found ${counts.error} error(s): fix them (evalrig doctor ${loaded.file} shows all checks), or pass --skip-preflight.`);
  }
}

export const planCommand: Command = {
  name: 'plan',
  summary: 'run a plan: start vLLM, evaluate, report, tear down',
  async run(args) {
    const { values, positionals } = parse(args);
    if (values.help) {
      console.log(HELP);
      return ExitCode.ok;
    }
    const [file, ...extra] = positionals;
    if (!file || extra.length > 0) throw new UserError(`evalrig plan: expected exactly one plan file\n\n${HELP}`);

    const loaded = loadPlan(file, { overrides: values.set });
    loaded.plan = selectEvals(loaded.plan, values.only);
    const serve = await prepareServe(loaded);
    if (values['dry-run']) {
      printDryRun(loaded, serve);
      return ExitCode.ok;
    }
    const display = createDisplay();
    // The preflight's "vLLM flags" check shows the notices already; without it they still need saying.
    if (values['skip-preflight']) for (const notice of serve.notices) display.warn(notice);
    else await preflight(loaded);
    const summary = await runPlan(loaded, { outputDir: values['output-dir'], display, serve });
    display.close();

    if (summary.evals.length > 0) console.log(renderConsoleTable(summary));
    if (summary.error) console.error(`\n${summary.status === 'interrupted' ? 'Interrupted' : 'Run failed'}: ${summary.error}`);
    console.log(`\nRun directory: ${summary.run_dir}`);
    return summary.exit_code;
  },
};
