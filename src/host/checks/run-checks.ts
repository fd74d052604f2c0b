import { checkDisk } from './disk.js';
import { checkDriver, checkGpuMemory, checkGpus, checkOtherRuns } from './gpus.js';
import { checkModel, checkWeights } from './model.js';
import { checkPort } from './port.js';
import { checkEvalscope, checkPython } from './tools.js';
import type { CheckResult, CheckStatus, HostFacts, PreflightInput } from './types.js';
import { checkServeFlags, checkVllm } from './vllm.js';

/**
 * Host preflight as pure functions: `runChecks(input, facts)` turns what `gatherHostFacts` found into a verdict
 * per concern, each with a one-line fix. No I/O here, so tests feed facts directly.
 */

/** Every check, in the order a person reads them: hardware, server, model, host resources, tools. */
export function runChecks(input: PreflightInput, facts: HostFacts): CheckResult[] {
  return [
    checkGpus(input, facts),
    checkDriver(input, facts),
    ...checkGpuMemory(input, facts),
    checkOtherRuns(input, facts),
    checkVllm(input, facts),
    checkServeFlags(input, facts),
    checkModel(input, facts),
    checkWeights(input, facts),
    checkPort(input, facts),
    checkDisk(input, facts),
    checkEvalscope(input, facts),
    checkPython(facts),
  ].filter((result): result is CheckResult => result !== null);
}

export function countByStatus(results: readonly CheckResult[]): Record<CheckStatus, number> {
  const counts: Record<CheckStatus, number> = { ok: 0, warning: 0, error: 0, skipped: 0 };
  for (const result of results) counts[result.status]++;
  return counts;
}
