import type { Plan } from './schema.js';
import { endpointCredentials, shownEndpoint, shownUrl, splitWebhookUrl } from './webhook-url.js';

/**
 * Masking rule: a name is secret when one of its `_`-separated segments is TOKEN, KEY, SECRET, PASSWORD, PASSWD,
 * PASS or CREDENTIAL (or a plural) or it ends in APIKEY, ACCESSKEY or PRIVATEKEY; files with structure
 * (plan.resolved.yaml) get `***` for the values of secret keys (server.api_key, secret-named env entries, secret
 * flags), and free text (logs, messages) gets `***` for every secret value of 8 or more characters that is not
 * a number nor also an ordinary value of the plan.
 *
 * Segments, not substrings: TOKENIZERS_PARALLELISM or MONKEY_PATCH are not secrets, HF_KEY is. The length floor
 * keeps a short or number-like value (`false`, `1`, a port) from turning every such word of a log into `***`.
 */

const SECRET_SEGMENT = String.raw`(?:TOKENS?|KEYS?|SECRETS?|PASSWORDS?|PASSWD|PASS|CREDENTIALS?)`;

/** Environment variable names whose values are secrets wherever they appear (the rule above). */
export const SECRET_NAME = new RegExp(
  String.raw`(?:^|_)${SECRET_SEGMENT}(?:_|$)|(?:API|ACCESS|PRIVATE)_?KEYS?$`,
  'i',
);

/** vLLM flags whose value is a secret; vLLM logs its non-default args, so these must be masked too. */
export const SECRET_FLAGS = new Set(['--api-key', '--hf-token']);

const MASK = '***';

/** The shortest secret value that free-text masking replaces. */
const MIN_MASKED_LENGTH = 8;

function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** True when free-text masking may replace `value` everywhere: long enough, and not a number. */
function isMaskableText(value: string): boolean {
  return value.length >= MIN_MASKED_LENGTH && !Number.isFinite(Number(value));
}

function isSecretFlag(arg: string): boolean {
  return SECRET_FLAGS.has(arg.replace(/_/g, '-'));
}

/** Values given to secret flags in an argv, in both `--flag value` and `--flag=value` forms. */
function secretFlagValues(argv: readonly string[]): string[] {
  return argv.flatMap((arg, index) => {
    const eq = arg.indexOf('=');
    if (eq > 0) return isSecretFlag(arg.slice(0, eq)) ? [arg.slice(eq + 1)] : [];
    const value = argv[index + 1];
    return isSecretFlag(arg) && value !== undefined ? [value] : [];
  });
}

/** The argv with the values of secret flags replaced: `--api-key ***`, `--hf-token=***`. */
export function maskSecretFlags(argv: readonly string[]): string[] {
  return argv.map((arg, index) => {
    const previous = argv[index - 1];
    if (previous !== undefined && !previous.includes('=') && isSecretFlag(previous)) return MASK;
    const eq = arg.indexOf('=');
    return eq > 0 && isSecretFlag(arg.slice(0, eq)) ? `${arg.slice(0, eq)}=${MASK}` : arg;
  });
}

/** The environment with the values of secret-named variables replaced. */
export function maskEnv(env: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => [name, isSecretName(name) ? MASK : value]),
  );
}

/**
 * Every secret text of a plan that free-text masking replaces: api_key, secret-named env entries, secret flag
 * values, and the values of secret-named variables interpolated into the plan; short and number-like ones left out,
 * and those that are also a value of the plan under a name that is not secret (a path, a model).
 */
export function collectSecrets(
  plan: Plan,
  interpolatedNames: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): string[] {
  const values = new Set<string>();
  if (plan.server.api_key) values.add(plan.server.api_key);
  for (const env of [plan.server.env, plan.server.docker?.env ?? {}])
    for (const [name, value] of Object.entries(env)) if (isSecretName(name)) values.add(value);
  for (const name of interpolatedNames) {
    const value = env[name];
    if (value && isSecretName(name)) values.add(value);
  }
  for (const value of secretFlagValues(plan.server.extra_args)) values.add(value);
  // An endpoint's address may carry a credential: its user info or a query value.
  if (plan.server.base_url)
    for (const hidden of endpointCredentials(plan.server.base_url)) values.add(hidden);
  // A webhook's address is its credential; a signing secret is one.
  for (const target of plan.notify ?? []) {
    for (const hidden of splitWebhookUrl(target.url).hidden) values.add(hidden);
    if (target.secret) values.add(target.secret);
  }
  // A "secret" that is also an ordinary value of the plan (a path, a model name) would mask that value everywhere.
  const open = new Set(stringsIn(maskPlan(plan)));
  return [...values].filter((value) => isMaskableText(value) && !open.has(value));
}

/** Every string of a value, however deep. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(stringsIn);
  return [];
}

/** A function that replaces every secret text in a text by `***`. */
export function secretMasker(secrets: readonly string[]): (text: string) => string {
  const sorted = secrets.filter(isMaskableText).sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return (text) => text;
  return (text) => sorted.reduce((masked, secret) => masked.split(secret).join(MASK), text);
}

/**
 * Masks one value of the plan tree by where it sits. `path` holds the keys above it, split at dots so that a
 * matrix override such as `server.env.HF_TOKEN` is judged like the key it sets.
 */
function maskValue(value: unknown, path: readonly string[], mask: (text: string) => string): unknown {
  const key = path.at(-1);
  if (typeof value === 'string') {
    if (key === 'api_key' || (path.at(-2) === 'env' && key !== undefined && isSecretName(key))) return MASK;
    if (path[0] === 'notify' && key === 'secret') return MASK;
    if (path[0] === 'notify' && key === 'url') return shownUrl(value);
    if (key === 'base_url') return shownEndpoint(value);
    return mask(value);
  }
  if (Array.isArray(value)) {
    const items = value.map((item: unknown) => maskValue(item, path, mask));
    const isArgv = key === 'extra_args' && items.every((item): item is string => typeof item === 'string');
    return isArgv ? maskSecretFlags(items) : items;
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value as Record<string, unknown>).map(([name, child]) => [
        name,
        maskValue(child, [...path, ...name.split('.')], mask),
      ]),
    );
  }
  return value;
}

/**
 * The plan with its secrets replaced by `***`, for plan.resolved.yaml: server.api_key, secret-named entries of
 * server.env and server.docker.env, secret flag values in server.extra_args (matrix overrides of these too), the
 * credentials of notify webhooks (signing secrets, the token parts of their addresses), and
 * `secrets` (free-text secret values, e.g. `loaded.secrets`) inside other strings. Only strings change, so every
 * number and boolean keeps its type when the plan is written as YAML or JSON.
 */
export function maskPlan(plan: Plan, secrets: readonly string[] = []): Plan {
  return maskValue(plan, [], secretMasker(secrets)) as Plan;
}
