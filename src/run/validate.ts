import { ExitCode, UserError } from '../errors.js';
import { loadPlan } from '../plan/load.js';
import { prepareServe } from './prepare.js';

/**
 * `evalrig validate`: each plan loaded and, for every matrix variant, its flags rendered for the vLLM version as
 * `plan --dry-run` would (pinned, asked, or read from the image tag): a plan that validates also dry-runs.
 */
export async function validatePlans(files: readonly string[], overrides?: string[]): Promise<number> {
  let code: number = ExitCode.ok;
  for (const file of files) {
    try {
      const loaded = loadPlan(file, { overrides });
      const variants = loaded.variants.length > 0 ? loaded.variants : [{ name: '', plan: loaded.plan }];
      const notices: string[] = [];
      for (const variant of variants) {
        const serve = await prepareServe({ ...loaded, plan: variant.plan });
        const where = variant.name ? `matrix variant ${variant.name}: ` : '';
        notices.push(...serve.notices.map((notice) => `  ${where}notice: ${notice}`));
      }
      const { plan } = loaded;
      console.log(
        `${file}: ok (${plan.evals.length} evaluation${plan.evals.length === 1 ? '' : 's'}, runtime ${plan.server.runtime})`,
      );
      for (const notice of notices) console.log(notice);
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      console.error(error.message);
      code = ExitCode.invalidInput;
    }
  }
  return code;
}
