import type { Plan } from './schema.js';

/** Environment variable names whose values are secrets wherever they appear. */
export const SECRET_NAME = /(TOKEN|SECRET|PASSW(OR)?D|CREDENTIAL|API_?KEY|ACCESS_?KEY|PRIVATE_?KEY)/i;

/** vLLM flags whose value is a secret; vLLM logs its non-default args, so these must be masked too. */
export const SECRET_FLAGS = new Set(['--api-key', '--hf-token']);

/** Values given to secret flags in an argv, in both `--flag value` and `--flag=value` forms. */
function secretFlagValues(argv: readonly string[]): string[] {
  return argv.flatMap((arg, index) => {
    const name = arg.split('=')[0]?.replace(/_/g, '-') ?? '';
    if (!SECRET_FLAGS.has(name)) return [];
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[index + 1];
    return value ? [value] : [];
  });
}

/** Every secret value of a plan: api_key, secret-named env entries, and secret-named variables interpolated into it. */
export function collectSecrets(
  plan: Plan,
  interpolatedNames: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const values = new Set<string>();
  if (plan.server.api_key) values.add(plan.server.api_key);
  const serverEnv = { ...plan.server.env, ...plan.server.docker?.env };
  for (const [name, value] of Object.entries(serverEnv))
    if (SECRET_NAME.test(name) && value) values.add(value);
  for (const name of interpolatedNames) {
    const value = env[name];
    if (value && SECRET_NAME.test(name)) values.add(value);
  }
  for (const value of secretFlagValues(plan.server.extra_args)) values.add(value);
  // Very short values would mask unrelated text; a 1-3 character "secret" is not one worth hiding.
  return [...values].filter((value) => value.length >= 4);
}

/** A function that replaces every secret in a text by `***`. */
export function secretMasker(secrets: readonly string[]): (text: string) => string {
  const sorted = [...secrets].sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return (text) => text;
  return (text) => sorted.reduce((masked, secret) => masked.split(secret).join('***'), text);
}
