import type { Plan } from './schema.js';

/** Environment variable names whose values are secrets wherever they appear. */
export const SECRET_NAME = /(TOKEN|KEY|SECRET|PASSWORD|PASSWD|CREDENTIAL)/i;

/** Every secret value of a plan: api_key, secret-named env entries, and secret-named variables interpolated into it. */
export function collectSecrets(
  plan: Plan,
  interpolatedNames: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const values = new Set<string>();
  if (plan.server.api_key) values.add(plan.server.api_key);
  const serverEnv = { ...plan.server.env, ...plan.server.docker?.env };
  for (const [name, value] of Object.entries(serverEnv)) if (SECRET_NAME.test(name) && value) values.add(value);
  for (const name of interpolatedNames) {
    const value = env[name];
    if (value && SECRET_NAME.test(name)) values.add(value);
  }
  // Very short values would mask unrelated text; a 1-3 character "secret" is not one worth hiding.
  return [...values].filter((value) => value.length >= 4);
}

/** A function that replaces every secret in a text by `***`. */
export function secretMasker(secrets: readonly string[]): (text: string) => string {
  const sorted = [...secrets].sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return (text) => text;
  return (text) => sorted.reduce((masked, secret) => masked.split(secret).join('***'), text);
}
