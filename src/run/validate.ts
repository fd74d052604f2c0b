import { ExitCode, InterruptedError, UserError } from '../errors.js';
import { loadPlan } from '../plan/load.js';
import { abortable } from '../util/abortable.js';
import { resolveEvals } from './dry-run.js';
import { prepareServe } from './prepare.js';
import { trapStopSignals } from './signals.js';

/** What validating one plan prints: its `ok` line, the flags' notices and what the evaluators found. */
async function validatePlan(file: string, signal: AbortSignal, overrides?: string[]): Promise<string[]> {
  const loaded = loadPlan(file, { overrides });
  const variants = loaded.variants.length > 0 ? loaded.variants : [{ name: '', plan: loaded.plan }];
  const { evals, server } = loaded.plan;
  const lines = [
    `${file}: ok (${evals.length} evaluation${evals.length === 1 ? '' : 's'}, runtime ${server.runtime})`,
  ];
  for (const variant of variants) {
    const serve = await abortable(prepareServe({ ...loaded, plan: variant.plan }, signal), signal);
    const where = variant.name ? `matrix variant ${variant.name}: ` : '';
    lines.push(...serve.notices.map((notice) => `  ${where}notice: ${notice}`));
    for (const { spec, notes } of await resolveEvals(variant.plan.evals, signal))
      lines.push(...notes.map((note) => `  ${where}${spec.name}: ${note}`));
  }
  return lines;
}

/**
 * `evalrig validate`: each plan loaded and, for every matrix variant, its flags rendered for the vLLM version as
 * `plan --dry-run` would (pinned, asked, or read from the image tag) and its evaluations looked up as the dry run
 * does (the installed EvalScope's version): a plan that validates also dry-runs. A Ctrl-C ends the lookups in
 * flight and exits with the signal's code.
 */
export async function validatePlans(files: readonly string[], overrides?: string[]): Promise<number> {
  const interruption = trapStopSignals(() => undefined);
  let code: number = ExitCode.ok;
  try {
    for (const file of files) {
      try {
        const lines = await validatePlan(file, interruption.signal, overrides);
        for (const line of new Set(lines)) console.log(line);
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        console.error(error.message);
        code = ExitCode.invalidInput;
      }
    }
    return code;
  } catch (error) {
    const reason: unknown = interruption.signal.aborted ? interruption.signal.reason : error;
    if (!(reason instanceof InterruptedError)) throw error;
    console.error(`\nInterrupted (${reason.signal}): validation stopped.`);
    return reason.exitCode;
  } finally {
    interruption.release();
  }
}
