import { ExitCode, UserError } from '../errors.js';
import { join } from 'node:path';
import { runPreflight } from './doctor.js';
import { countByStatus } from '../host/checks.js';
import { renderChecksTable } from '../host/report.js';
import { loadPlan, selectEvals, type LoadedPlan } from '../plan/load.js';
import type { Plan } from '../plan/schema.js';
import { secretMasker } from '../plan/secrets.js';
import { createDisplay, type RunDisplay } from '../report/display.js';
import {
  renderComparisonTable,
  summarizeMatrix,
  writeMatrixReports,
  type MatrixSummary,
} from '../report/matrix.js';
import type { RunSummary } from '../report/summary.js';
import { renderConsoleTable } from '../report/table.js';
import { createRunDir } from '../run/run-dir.js';
import { runPlan } from '../run/run-plan.js';
import { displayServeArgv, prepareServe, type ServePlan } from '../run/prepare.js';
import { describeDockerServer } from '../server/docker/start.js';
import { engineConfigured } from '../server/docker/client.js';
import { findOrphanContainers } from '../server/docker/leftovers.js';
import { findOrphanServers } from '../server/local/records.js';
import { buildServerEnv } from '../vllm/argv.js';
import { formatVersion } from '../util/pep440.js';
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
    lines.push(`runtime: ${server.runtime}`);
    if (server.runtime === 'docker') {
      lines.push(
        describeDockerServer(server, {
          planDir: loaded.dir,
          planName: loaded.plan.name,
          runId: 'dry-run',
          reasoningFlags: serve.reasoningFlags,
        }),
      );
    } else {
      lines.push(`command: ${displayServeArgv(loaded, serve, server.port).join(' ')}`);
      const env = Object.entries(buildServerEnv(server));
      lines.push(env.length > 0 ? 'env:' : 'env: (inherited only)', ...env.map(([k, v]) => `  ${k}=${v}`));
    }
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

async function preflight(loaded: LoadedPlan, serve: ServePlan): Promise<void> {
  const results = await runPreflight(loaded.plan, { planDir: loaded.dir, vllmDetection: serve.detection });
  const counts = countByStatus(results);
  const noteworthy = results.filter((r) => r.status === 'error' || r.status === 'warning');
  if (noteworthy.length > 0) console.error(`Host preflight:\n${renderChecksTable(noteworthy)}\n`);
  if (counts.error > 0) {
    throw new UserError(
      `Preflight found ${counts.error} error(s): fix them (evalrig doctor ${loaded.file} shows all checks), or pass --skip-preflight.`,
    );
  }
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

    const loaded = loadPlan(file, { overrides: values.set });
    // A matrix plan runs each variant; a plain plan is a matrix of one. All are prepared before anything starts.
    const targets = (loaded.variants.length > 0 ? loaded.variants : [{ name: '', plan: loaded.plan }]).map(
      (variant) => ({
        name: variant.name,
        // --output-dir replaces output.dir everywhere, the preflight's disk check included.
        loaded: {
          ...loaded,
          plan: withOutputDir(selectEvals(variant.plan, values.only), values['output-dir']),
        },
      }),
    );
    const prepared = [];
    for (const target of targets) prepared.push({ ...target, serve: await prepareServe(target.loaded) });

    if (values['dry-run']) {
      for (const { name, loaded: variantLoaded, serve } of prepared) {
        if (name) console.log(`\n=== matrix variant ${name} ===`);
        printDryRun(variantLoaded, serve);
      }
      return ExitCode.ok;
    }

    const display = createDisplay();
    // Orphaned servers and containers hold GPUs whatever this plan's runtime.
    await warnAboutLeftovers(display);
    // The preflight's "vLLM flags" check shows the notices already; without it they still need saying.
    if (values['skip-preflight'])
      for (const target of prepared) for (const notice of target.serve.notices) display.warn(notice);
    else for (const target of prepared) await preflight(target.loaded, target.serve);
    if (loaded.variants.length === 0) {
      const [single] = prepared;
      if (!single) throw new Error('no plan to run');
      const summary = await runPlan(single.loaded, { display, serve: single.serve });
      display.close();
      printRunResult(summary);
      return summary.exit_code;
    }

    // One server up at a time: each variant is a whole run (start, evaluate, tear down) in its own folder.
    const { runDir } = createRunDir(values['output-dir'] ?? loaded.plan.output.dir, loaded.plan.name);
    const variants: MatrixSummary['variants'] = [];
    for (const target of prepared) {
      display.info(`matrix variant ${target.name} (${variants.length + 1}/${prepared.length})`);
      const summary = await runPlan(target.loaded, {
        display,
        serve: target.serve,
        runDir: join(runDir, target.name),
      });
      variants.push({ name: target.name, summary });
      if (summary.status === 'interrupted') break;
    }
    display.close();
    const matrix = summarizeMatrix(loaded.plan.name, runDir, variants);
    writeMatrixReports(matrix);
    console.log(renderComparisonTable(matrix));
    for (const { name, summary } of variants)
      if (summary.error) console.error(`\n${name}: ${summary.status}: ${summary.error}`);
    console.log(`\nRun directory: ${runDir}`);
    return matrix.exit_code;
  },
};

function withOutputDir(plan: Plan, outputDir: string | undefined): Plan {
  return outputDir === undefined ? plan : { ...plan, output: { ...plan.output, dir: outputDir } };
}

/** Servers and containers of crashed runs keep GPU memory: say so before starting another one. */
async function warnAboutLeftovers(display: RunDisplay): Promise<void> {
  const servers = findOrphanServers();
  if (servers.length > 0) {
    const groups = servers.map((s) => s.record.pgid).join(', ');
    display.warn(
      `${servers.length} vLLM process group(s) left by killed evalrig runs (${groups}): \`evalrig cleanup --yes\` stops them.`,
    );
  }
  if (!engineConfigured()) return;
  const orphans = await findOrphanContainers().catch(() => []);
  if (orphans.length === 0) return;
  const names = orphans.map((o) => o.name).join(', ');
  display.warn(
    `${orphans.length} container(s) left by crashed evalrig runs (${names}): \`evalrig cleanup --yes\` removes them.`,
  );
}

function printRunResult(summary: RunSummary): void {
  if (summary.evals.length > 0) console.log(renderConsoleTable(summary));
  if (summary.error) {
    const what = summary.status === 'interrupted' ? 'Interrupted' : 'Run failed';
    console.error(`\n${what}: ${summary.error}`);
  }
  if (summary.status === 'interrupted') {
    console.error('Predictions finished before the interruption are kept in the run directory.');
  }
  console.log(`\nRun directory: ${summary.run_dir}`);
}
