import { ExitCode, UserError } from '../errors.js';
import { relative } from 'node:path';
import {
  countByStatus,
  machinePreflightInput,
  preflightInputFromPlan,
  runChecks,
  type CheckResult,
} from '../host/checks.js';
import { gatherHostFacts } from '../host/facts.js';
import { renderChecksJson, renderChecksTable } from '../host/report.js';
import { loadPlan } from '../plan/load.js';
import type { Plan } from '../plan/schema.js';
import type { VllmDetection } from '../vllm/detect.js';
import { parseCommandArgs, type Command } from './command.js';

const HELP = `Usage: evalrig doctor [plan.yaml] [--json] [--nvidia-smi PATH] [--set PATH=VALUE]

Checks that this machine can run a plan, before anything starts: GPUs and driver, free GPU memory and the
processes holding it, vLLM, EvalScope and Python; with a plan also its model folder, weights, port and output disk.
Without a plan it checks the machine in general.

Options:
  --json             print the checks as JSON
  --nvidia-smi PATH  the nvidia-smi to run (default: nvidia-smi on PATH)
  --set PATH=VALUE   override a plan value, as for evalrig plan

Exit codes: 0 no errors (warnings allowed), 2 errors found or invalid arguments.`;

export interface PreflightOptions {
  /** The plan file's folder: relative paths in the plan resolve against it. */
  planDir: string;
  nvidiaSmi?: string;
  env?: Readonly<Record<string, string | undefined>>;
  timeoutMs?: number;
  /**
   * What `detectVllmVersion` found for this plan already (`evalrig plan` detects it to render the flags), so that
   * vLLM is not asked twice. Ignored when it only read the pin: the check then asks vLLM to compare.
   */
  vllmDetection?: VllmDetection;
  /** Ask EvalScope for its version even when no eval needs it (`evalrig doctor`). Default: only when needed. */
  probeEvalscope?: boolean;
}

/** The host checks for one plan: `evalrig plan` runs them before it starts the server, `evalrig doctor` shows them. */
export async function runPreflight(plan: Plan, options: PreflightOptions): Promise<CheckResult[]> {
  const env = options.env ?? process.env;
  const input = preflightInputFromPlan(plan, options.planDir, env);
  const facts = await gatherHostFacts(input, {
    nvidiaSmi: options.nvidiaSmi,
    env,
    timeoutMs: options.timeoutMs,
    vllmDetection: options.vllmDetection,
    probeEvalscope: options.probeEvalscope,
  });
  return runChecks(input, facts);
}

const OPTIONS = {
  json: { type: 'boolean' },
  'nvidia-smi': { type: 'string' },
  set: { type: 'string', multiple: true },
} as const;

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check GPUs, driver, free GPU memory, vLLM and EvalScope before a run',
  help: HELP,
  async run(args) {
    const { values, positionals } = parseCommandArgs('doctor', HELP, args, OPTIONS);
    if (positionals.length > 1) throw new UserError(`evalrig doctor: give at most one plan file\n\n${HELP}`);
    const nvidiaSmi = values['nvidia-smi'];
    const file = positionals[0];

    let subject: string;
    let results: CheckResult[];
    if (file === undefined) {
      subject = 'this machine (no plan given)';
      const input = machinePreflightInput(process.cwd());
      results = runChecks(input, await gatherHostFacts(input, { nvidiaSmi, probeEvalscope: true }));
    } else {
      // loadPlan throws a UserError listing every problem of an invalid plan.
      const loaded = await loadPlan(file, { overrides: values.set });
      subject = `${relative(process.cwd(), loaded.file) || loaded.file} (runtime ${loaded.plan.server.runtime})`;
      // Unlike the preflight of `evalrig plan`, doctor reports EvalScope's version whether or not the plan needs it.
      results = await runPreflight(loaded.plan, { planDir: loaded.dir, nvidiaSmi, probeEvalscope: true });
    }

    if (values.json) {
      console.log(renderChecksJson(results));
    } else {
      const color = process.stdout.isTTY === true && !process.env['NO_COLOR'];
      console.log(`evalrig doctor: ${subject}\n`);
      console.log(renderChecksTable(results, { color }));
    }
    // Warnings alone do not stop a run; errors would make it fail, so they fail the check too.
    return countByStatus(results).error > 0 ? ExitCode.invalidInput : ExitCode.ok;
  },
};
