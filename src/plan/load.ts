import { UserError } from '../errors.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { isScalar, LineCounter, parse as parseYaml, parseDocument, visit, type Document } from 'yaml';
import type { z } from 'zod';
import { interpolate, parseDotEnv } from './interpolate.js';
import { expandHome } from '../util/paths.js';
import { allowedKeysAt, expectsStringAt, suggestKey } from './keys.js';
import { positionOf } from './positions.js';
import { PlanSchema, type Plan } from './schema.js';
import { collectSecrets } from './secrets.js';

export interface LoadedPlan {
  plan: Plan;
  /** `matrix` variants, each a complete validated plan; empty when the plan has no matrix. */
  variants: { name: string; plan: Plan }[];
  /** Absolute path of the plan file. */
  file: string;
  /** Folder of the plan file; relative paths in the plan resolve against it. */
  dir: string;
  /** Values that must never be printed or written (api keys, tokens, interpolated secrets). */
  secrets: string[];
}

export interface LoadOptions {
  /** `--set path=value` overrides, applied before validation. */
  overrides?: string[];
  env?: Readonly<Record<string, string | undefined>>;
}

/** One problem in a plan, located in the file. */
export interface PlanProblem {
  line?: number;
  col?: number;
  path: string;
  message: string;
}

export class PlanError extends UserError {
  constructor(
    readonly file: string,
    readonly problems: PlanProblem[],
  ) {
    super(formatProblems(file, problems));
    this.name = 'PlanError';
  }
}

function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel.startsWith('..') ? file : rel;
}

function formatProblems(file: string, problems: PlanProblem[]): string {
  const where = displayPath(file);
  const lines = problems.map((p) => {
    const pos = p.line !== undefined ? `${where}:${p.line}:${p.col ?? 1}` : where;
    return `  ${pos}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
  });
  const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
  return `Invalid plan ${where} (${count}):\n${lines.join('\n')}`;
}

export function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, segment) => {
    if (typeof segment === 'number') return `${text}[${segment}]`;
    return text ? `${text}.${String(segment)}` : String(segment);
  }, '');
}

/** `evals[0].limit` → ['evals', 0, 'limit'] */
export function parsePath(text: string): (string | number)[] {
  const path: (string | number)[] = [];
  for (const part of text.split('.')) {
    const match = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!match) throw new UserError(`--set ${text}: "${part}" is not a valid path segment (use a.b[0].c)`);
    path.push(match[1] as string);
    for (const index of (match[2] ?? '').matchAll(/\[(\d+)\]/g)) path.push(Number(index[1]));
  }
  return path;
}

function readPlanSource(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new UserError(
        `Plan file not found: ${file}\nGive the path of a YAML plan, e.g. configs/demo.yaml.`,
      );
    throw new UserError(`Cannot read plan ${file}: ${(error as Error).message}`);
  }
}

function loadEnv(
  dir: string,
  base: Readonly<Record<string, string | undefined>>,
): Record<string, string | undefined> {
  const dotEnvFile = join(dir, '.env');
  // The process environment wins over .env, as in docker compose and dotenv.
  const fromFile = existsSync(dotEnvFile) ? parseDotEnv(readFileSync(dotEnvFile, 'utf8')) : {};
  return { ...fromFile, ...base };
}

/** Replace `${VAR}` forms in every string scalar of the document; returns the variables used, and problems. */
function interpolateDocument(
  doc: Document,
  counter: LineCounter,
  env: Readonly<Record<string, string | undefined>>,
) {
  const problems: PlanProblem[] = [];
  const used = new Set<string>();
  visit(doc, {
    Scalar(_key, node, ancestry) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const result = interpolate(node.value, env);
      result.used.forEach((name) => used.add(name));
      node.value = result.value;
      const pos = node.range ? counter.linePos(node.range[0]) : undefined;
      const path = ancestry.flatMap((a) => ('key' in a && isScalar(a.key) ? [String(a.key.value)] : []));
      for (const message of result.errors) problems.push({ ...pos, path: path.join('.'), message });
    },
  });
  return { problems, used: [...used] };
}

function applyOverrides(doc: Document, overrides: readonly string[]): void {
  for (const override of overrides) {
    const eq = override.indexOf('=');
    if (eq <= 0)
      throw new UserError(`--set ${override}: expected path=value, e.g. --set server.max_model_len=16384`);
    const path = parsePath(override.slice(0, eq));
    const text = override.slice(eq + 1);
    // Typed by the schema: a string field takes the text as it is; elsewhere YAML typing gives 16384 a number,
    // true a boolean and [a, b] a list, and the schema then checks the type.
    const value: unknown = expectsStringAt(PlanSchema, path) ? text : parseYaml(text);
    doc.setIn(path, doc.createNode(value));
  }
}

/** Validate the document as a plan. For a matrix variant, problems are located at its matrix entry. */
function validate(doc: Document, counter: LineCounter, file: string, locateAt?: (string | number)[]): Plan {
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== 'object') {
    throw new PlanError(file, [
      { line: 1, col: 1, path: '', message: 'a plan is a YAML mapping with name, server and evals' },
    ]);
  }
  const parsed = PlanSchema.safeParse(data);
  if (parsed.success) return expandPlanPaths(withServerDefaults(parsed.data));
  const problems = parsed.error.issues.flatMap((issue) => {
    const unknownKeys = unknownKeysOfUnmatchedUnion(issue, data);
    if (unknownKeys.length > 0) {
      // A mistyped discriminator (`backnd: native`) hides the real problem behind "no matching discriminator".
      const objectPath = unionObjectPath(issue);
      return unknownKeys.map(({ key, hint }) => ({
        ...positionOf(doc, counter, locateAt ?? objectPath, locateAt ? undefined : key),
        path: formatPath([...objectPath, key]),
        message: `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`,
      }));
    }
    const { message, key } = describeIssue(issue, data);
    // A key-level custom issue points at the key: locate it as a key of its parent object.
    const keyIssue = issue.code === 'custom' && typeof issue.params?.unknownKey === 'string';
    const objectPath = keyIssue ? issue.path.slice(0, -1) : issue.path;
    const locateKey = keyIssue ? String(issue.path.at(-1)) : key;
    const pos = positionOf(doc, counter, locateAt ?? objectPath, locateAt ? undefined : locateKey);
    const path = formatPath(key === undefined ? issue.path : [...issue.path, key]);
    return { ...pos, path: locateAt ? `${formatPath(locateAt)}: ${path}` : path, message };
  });
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  throw new PlanError(file, problems);
}

/** Each matrix variant: the plan document with the variant's overrides applied, validated on its own. */
function expandMatrix(
  doc: Document,
  counter: LineCounter,
  file: string,
  plan: Plan,
): { name: string; plan: Plan }[] {
  return (plan.matrix ?? []).map((variant, index) => {
    const variantDoc = doc.clone();
    variantDoc.delete('matrix');
    for (const [text, value] of Object.entries(variant.set)) {
      const path = parsePath(text);
      // As with --set: a string field takes `8` or `true` as the text it reads as.
      const typed =
        expectsStringAt(PlanSchema, path) && (typeof value === 'number' || typeof value === 'boolean')
          ? String(value)
          : value;
      variantDoc.setIn(path, variantDoc.createNode(typed));
    }
    const variantPlan = validate(variantDoc, counter, file, ['matrix', index, 'set']);
    return { name: variant.name, plan: { ...variantPlan, name: `${plan.name}-${variant.name}` } };
  });
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): { message: string; key?: string } {
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeysAt(PlanSchema, issue.path);
    const parts = issue.keys.map((key) => {
      const hint = suggestKey(key, allowed);
      return `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`;
    });
    return { message: parts.join('; '), key: issue.keys[0] };
  }
  if (issue.code === 'invalid_type' && getAt(data, issue.path) === undefined) {
    return { message: `required ${issue.expected} is missing` };
  }
  if (issue.code === 'invalid_value' && getAt(data, issue.path) === undefined) {
    return { message: `required key is missing (one of: ${issue.values.map(String).join(', ')})` };
  }
  if (issue.code === 'invalid_union' && 'note' in issue && issue.note === 'No matching discriminator') {
    return { message: `${issue.message} (one of: native)` };
  }
  return { message: issue.message };
}

/** The object a union issue is about: a discriminator issue points at the discriminator key inside it. */
function unionObjectPath(issue: z.core.$ZodIssue): PropertyKey[] {
  return 'discriminator' in issue && issue.path.at(-1) === issue.discriminator
    ? issue.path.slice(0, -1)
    : issue.path;
}

function unknownKeysOfUnmatchedUnion(
  issue: z.core.$ZodIssue,
  data: unknown,
): { key: string; hint?: string }[] {
  if (issue.code !== 'invalid_union') return [];
  const path = unionObjectPath(issue);
  const value = getAt(data, path);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const allowed = allowedKeysAt(PlanSchema, path);
  return Object.keys(value)
    .filter((key) => !allowed.includes(key))
    .map((key) => ({ key, hint: suggestKey(key, allowed) }));
}

function getAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = data;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** Server-wide defaults that the evaluations inherit, made explicit so plan.resolved.yaml shows what ran. */
function withServerDefaults(plan: Plan): Plan {
  const defaults = plan.server.chat_template_kwargs;
  if (!defaults) return plan;
  const evals = plan.evals.map((spec) => ({
    ...spec,
    generation: {
      ...spec.generation,
      chat_template_kwargs: { ...defaults, ...spec.generation.chat_template_kwargs },
    },
  }));
  return { ...plan, evals };
}

/** `~/…` in the plan's paths, expanded once here: vLLM is started without a shell, which would have done it. */
function expandPlanPaths(plan: Plan): Plan {
  const server = { ...plan.server, ...(plan.server.model ? { model: expandHome(plan.server.model) } : {}) };
  const evals = plan.evals.map((spec) =>
    spec.dataset_path ? { ...spec, dataset_path: expandHome(spec.dataset_path) } : spec,
  );
  const datasets = plan.datasets.cache_dir
    ? { ...plan.datasets, cache_dir: expandHome(plan.datasets.cache_dir) }
    : plan.datasets;
  return { ...plan, server, evals, datasets, output: { ...plan.output, dir: expandHome(plan.output.dir) } };
}

/** Keep only the evaluations named by --only; an unknown name is an error that lists the known ones. */
export function selectEvals(plan: Plan, only: readonly string[] | undefined): Plan {
  if (!only || only.length === 0) return plan;
  const known = plan.evals.map((spec) => spec.name);
  const unknown = only.filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new UserError(
      `--only ${unknown.join(', ')}: no such evaluation in plan ${plan.name} (it has: ${known.join(', ')})`,
    );
  }
  return { ...plan, evals: plan.evals.filter((spec) => only.includes(spec.name)) };
}

/** Read, interpolate, override and validate a plan. Throws PlanError listing every problem with line and column. */
export function loadPlan(file: string, options: LoadOptions = {}): LoadedPlan {
  const absolute = resolve(file);
  const dir = dirname(absolute);
  const source = readPlanSource(absolute);
  const counter = new LineCounter();
  const doc = parseDocument(source, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new PlanError(
      absolute,
      doc.errors.map((e) => ({
        ...counter.linePos(e.pos[0]),
        path: '',
        message: `YAML: ${e.message.split('\n')[0] ?? e.message}`,
      })),
    );
  }
  const env = loadEnv(dir, options.env ?? process.env);
  const interpolation = interpolateDocument(doc, counter, env);
  if (interpolation.problems.length > 0) throw new PlanError(absolute, interpolation.problems);
  applyOverrides(doc, options.overrides ?? []);

  const plan = validate(doc, counter, absolute);
  const variants = expandMatrix(doc, counter, absolute, plan);
  const secrets = [plan, ...variants.map((v) => v.plan)].flatMap((p) =>
    collectSecrets(p, interpolation.used, env),
  );
  return { plan, variants, file: absolute, dir, secrets: [...new Set(secrets)] };
}
