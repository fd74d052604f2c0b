import { relative } from 'node:path';
import { ExitCode } from '../errors.js';
import { countByStatus, runChecks } from '../host/checks/run-checks.js';
import type { CheckResult } from '../host/checks/types.js';
import { gatherHostFacts } from '../host/facts.js';
import { machinePreflightInput } from '../host/preflight-input.js';
import { renderChecksJson, renderChecksTable } from '../host/report.js';
import { loadPlan } from '../plan/load.js';
import { runPreflight } from './preflight.js';

export interface DoctorRequest {
  /** A plan to check the host for; none: the machine in general. */
  file?: string;
  overrides?: string[];
  nvidiaSmi?: string;
  json: boolean;
}

/** `evalrig doctor`: the host checks, printed as a table or JSON; errors give exit 4, warnings alone do not. */
export async function runDoctor(request: DoctorRequest): Promise<number> {
  const { nvidiaSmi } = request;
  let subject: string;
  let results: CheckResult[];
  if (request.file === undefined) {
    subject = 'this machine (no plan given)';
    const input = machinePreflightInput(process.cwd());
    results = runChecks(input, await gatherHostFacts(input, { nvidiaSmi, probeEvalscope: true }));
  } else {
    // loadPlan throws a UserError listing every problem of an invalid plan.
    const loaded = loadPlan(request.file, { overrides: request.overrides });
    subject = `${relative(process.cwd(), loaded.file) || loaded.file} (runtime ${loaded.plan.server.runtime})`;
    // EvalScope is checked when the plan uses it, as the preflight of `evalrig plan` does.
    results = await runPreflight(loaded.plan, { planDir: loaded.dir, nvidiaSmi });
  }
  if (request.json) {
    console.log(renderChecksJson(results));
  } else {
    const color = process.stdout.isTTY === true && !process.env['NO_COLOR'];
    console.log(`evalrig doctor: ${subject}\n`);
    console.log(renderChecksTable(results, { color }));
  }
  // Warnings alone do not stop a run; errors would make it fail, so they fail the check too.
  return countByStatus(results).error > 0 ? ExitCode.preflightRefused : ExitCode.ok;
}
