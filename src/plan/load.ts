import { UserError } from '../errors.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import {
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  visit,
  type Document,
  type Node,
  type Pair,
} from 'yaml';
import type { z } from 'zod';
import { interpolate } from './interpolate.js';
import { expandHome } from '../util/paths.js';
import { allowedKeysAt, expectsStringAt, otherOptionsWithKey, suggestKey } from './keys.js';
import { positionOf } from './positions.js';
import { BACKEND_OWN_KEYS, matrixLayout, PlanSchema, type Plan } from './schema.js';
import { collectSecrets, SECRET_NAME } from './secrets.js';

export interface LoadedPlan {
  plan: Plan;
  /** `matrix` variants, each a complete validated plan; empty when the plan has no matrix. */
  variants: { name: string; plan: Plan }[];
  /** Absolute path of the plan file. */
  file: string;
  /** Folder of the plan file; relative paths in the plan resolve against it. */
  dir: string;
  /**
   * Secret texts for free-text masking (`secretMasker`): api keys, tokens, interpolated secrets, short and
   * number-like ones left out. Files with structure are masked by key instead (`maskPlan`).
   */
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
  const fromFile = existsSync(dotEnvFile) ? parseEnv(readFileSync(dotEnvFile, 'utf8')) : {};
  return { ...fromFile, ...base };
}

/**
 * A text as the field at `path` takes it: as it is for a string field; elsewhere as YAML reads it (16384 a number,
 * true a boolean, [a, b] a list), and the schema then checks the type. Text that YAML cannot read stays text.
 */
function typedForField(path: readonly PropertyKey[], text: string): unknown {
  if (expectsStringAt(PlanSchema, path)) return text;
  const doc = parseDocument(text);
  return doc.errors.length > 0 ? text : doc.toJS();
}

/**
 * The field a document path fills: a value under `matrix[i].set` (or `matrix.variants[i].set`) fills the key its
 * override names.
 */
function fieldPathOf(docPath: readonly (string | number)[]): (string | number)[] {
  const [top, ...below] = docPath;
  const [index, set, key, ...rest] = below[0] === 'variants' ? below.slice(1) : below;
  if (top === 'matrix' && typeof index === 'number' && set === 'set' && typeof key === 'string')
    return [...parsePath(key), ...rest];
  return [...docPath];
}

/** The document path of a node the visitor is at: the keys of the pairs and the indices in the lists above it. */
function docPathOf(ancestry: readonly (Document | Node | Pair)[], node: Node): (string | number)[] {
  const chain = [...ancestry, node];
  return chain.flatMap((item, index): (string | number)[] => {
    const child = chain[index + 1];
    if (isPair(item) && isScalar(item.key) && child === item.value) return [String(item.key.value)];
    if (isSeq(item) && child !== undefined) return [item.items.indexOf(child)];
    return [];
  });
}

/** The variables whose `${…}` filled a scalar, by the scalar's offset in the source. */
type Substitutions = ReadonlyMap<number, readonly string[]>;

/**
 * Replace `${VAR}` forms in every string scalar of the document; returns the variables used, where they were
 * substituted, and problems. A substituted value takes the type its field expects, as with --set: `${LEN}` is
 * 8192 in a number field and "8192" in a string field.
 */
function interpolateDocument(
  doc: Document,
  counter: LineCounter,
  env: Readonly<Record<string, string | undefined>>,
) {
  const problems: PlanProblem[] = [];
  const used = new Set<string>();
  const substitutions = new Map<number, string[]>();
  visit(doc, {
    Scalar(key, node, ancestry) {
      if (typeof node.value !== 'string' || !node.value.includes('${')) return;
      const result = interpolate(node.value, env);
      result.used.forEach((name) => used.add(name));
      const path = docPathOf(ancestry, node);
      node.value = result.value;
      if (result.used.length > 0 && key !== 'key') {
        // A variable fills one scalar: a number or a boolean, never a list or a map.
        const typed = typedForField(fieldPathOf(path), result.value);
        if (typeof typed === 'number' || typeof typed === 'boolean') node.value = typed;
        if (node.range) substitutions.set(node.range[0], result.used);
      }
      const pos = node.range ? counter.linePos(node.range[0]) : undefined;
      for (const message of result.errors) problems.push({ ...pos, path: formatPath(path), message });
    },
  });
  return { problems, used: [...used], substitutions };
}

/** `(the value "lots" comes from ${LEN})` for a scalar that `${…}` filled; the value is left out for secrets. */
function substitutionNote(doc: Document, path: readonly PropertyKey[], substitutions: Substitutions): string {
  const node = doc.getIn(path as (string | number)[], true);
  const names = isScalar(node) && node.range ? substitutions.get(node.range[0]) : undefined;
  if (!names || !isScalar(node)) return '';
  const variables = [...new Set(names)].map((name) => `\${${name}}`).join(' and ');
  const value = names.some((name) => SECRET_NAME.test(name)) ? '' : ` ${JSON.stringify(node.value)}`;
  return ` (the value${value} comes from ${variables})`;
}

function applyOverrides(doc: Document, overrides: readonly string[]): void {
  for (const override of overrides) {
    const eq = override.indexOf('=');
    if (eq <= 0)
      throw new UserError(`--set ${override}: expected path=value, e.g. --set server.max_model_len=16384`);
    const path = parsePath(override.slice(0, eq));
    const text = override.slice(eq + 1);
    doc.setIn(path, doc.createNode(typedForField(path, text)));
  }
}

/** A matrix variant under validation: its problems are located at its overrides in the plan file. */
interface VariantSource {
  /** The plan file's document (the variant's own document has no matrix). */
  doc: Document;
  /** The variant's `set` in that document: `matrix[i].set` or `matrix.variants[i].set`. */
  setPath: readonly (string | number)[];
  overrides: readonly string[];
}

/** Where the override that set `path` (or a key above it) is in the plan file's document. */
function overridePath(variant: VariantSource, path: readonly PropertyKey[]): PropertyKey[] | undefined {
  let best: { text: string; length: number } | undefined;
  for (const text of variant.overrides) {
    const target = parsePath(text);
    const covers = target.length <= path.length && target.every((segment, i) => segment === path[i]);
    if (covers && target.length > (best?.length ?? 0)) best = { text, length: target.length };
  }
  return best && [...variant.setPath, best.text, ...path.slice(best.length)];
}

interface ValidateOptions {
  /** Where `${…}` filled values, so a problem with such a value names its variables. */
  substitutions: Substitutions;
  variant?: VariantSource;
}

/** A problem, and the plan path it is about (the same for the plan and each matrix variant). */
interface FieldProblem {
  field: string;
  problem: PlanProblem;
}

type Validated = { plan: Plan; problems?: undefined } | { problems: FieldProblem[] };

/** Validate the document as a plan: the plan, or every problem found. */
function validate(doc: Document, counter: LineCounter, options: ValidateOptions): Validated {
  const { substitutions, variant } = options;
  const setPath = variant?.setPath ?? [];
  // Where the value at a plan path is written: for a variant, at the override that set it (or its whole `set`).
  const source = (path: readonly PropertyKey[]) =>
    variant ? { doc: variant.doc, path: overridePath(variant, path) ?? setPath } : { doc, path };
  const locate = (path: readonly PropertyKey[], key?: string) => {
    if (!variant) return positionOf(doc, counter, path, key);
    const at = source(key === undefined ? path : [...path, key]);
    return positionOf(at.doc, counter, at.path);
  };
  const noteFor = (path: readonly PropertyKey[]) => {
    const at = source(path);
    return substitutionNote(at.doc, at.path, substitutions);
  };
  const prefix = variant ? `${formatPath(setPath)}: ` : '';
  const data: unknown = doc.toJS();
  if (data === null || typeof data !== 'object') {
    const message = 'a plan is a YAML mapping with name, server and evals';
    return { problems: [{ field: '', problem: { line: 1, col: 1, path: '', message } }] };
  }
  const parsed = PlanSchema.safeParse(data);
  if (parsed.success) return { plan: expandPlanPaths(withServerDefaults(parsed.data)) };
  const problems = parsed.error.issues.flatMap(issuesOfMatchedShape).flatMap((issue) => {
    const unknownKeys = unknownKeysOfUnmatchedUnion(issue, data);
    if (unknownKeys.length > 0) {
      // A mistyped discriminator (`backnd: native`) hides the real problem behind "no matching discriminator".
      const objectPath = unionObjectPath(issue);
      return unknownKeys.map(({ key, hint }) => {
        const field = formatPath([...objectPath, key]);
        const message = `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`;
        return { field, problem: { ...locate(objectPath, key), path: prefix + field, message } };
      });
    }
    if (issue.code === 'unrecognized_keys') {
      // One problem per key, each at its own line, each with its own hint.
      return issue.keys.map((key) => {
        const field = formatPath([...issue.path, key]);
        const message = unknownKeyMessage(issue.path, key, data) + noteFor(issue.path);
        return { field, problem: { ...locate(issue.path, key), path: prefix + field, message } };
      });
    }
    const message = describeIssue(issue, data);
    // A key-level custom issue points at the key: locate it as a key of its parent object.
    const keyIssue = issue.code === 'custom' && typeof issue.params?.unknownKey === 'string';
    const objectPath = keyIssue ? issue.path.slice(0, -1) : issue.path;
    const locateKey = keyIssue ? String(issue.path.at(-1)) : undefined;
    const field = formatPath(issue.path);
    return {
      field,
      problem: {
        ...locate(objectPath, locateKey),
        path: prefix + field,
        message: message + noteFor(issue.path),
      },
    };
  });
  return { problems };
}

/**
 * The matrix variants as written, those with a name and a `set` mapping. Read from the document, not the
 * validated plan, so that a variant's problems are found even where the plan has others (a name used twice).
 */
function writtenVariants(data: unknown): {
  path: string[];
  variants: { index: number; name: string; set: object }[];
} {
  const matrix = getAt(data, ['matrix']);
  const listed = getAt(matrix, ['variants']);
  const written: unknown[] | { variants: unknown[] } = Array.isArray(matrix)
    ? matrix
    : { variants: Array.isArray(listed) ? listed : [] };
  const layout = matrixLayout(written);
  const variants = layout.variants.flatMap((variant, index) => {
    const { name, set } = (variant ?? {}) as { name?: unknown; set?: unknown };
    return typeof name === 'string' && set !== null && typeof set === 'object' && !Array.isArray(set)
      ? [{ index, name, set }]
      : [];
  });
  return { path: layout.path, variants };
}

/** Each matrix variant: the plan document with the variant's overrides applied, validated on its own. */
function expandMatrix(
  doc: Document,
  counter: LineCounter,
  substitutions: Substitutions,
): { name: string; validated: Validated }[] {
  const layout = writtenVariants(doc.toJS());
  return layout.variants.map((variant) => {
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
    const validated = validate(variantDoc, counter, {
      substitutions,
      variant: { doc, setPath: [...layout.path, variant.index, 'set'], overrides: Object.keys(variant.set) },
    });
    return { name: variant.name, validated };
  });
}

function describeIssue(issue: z.core.$ZodIssue, data: unknown): string {
  if (issue.code === 'invalid_type' && getAt(data, issue.path) === undefined) {
    return `required ${issue.expected} is missing`;
  }
  if (issue.code === 'invalid_value' && getAt(data, issue.path) === undefined) {
    return `required key is missing (one of: ${issue.values.map(String).join(', ')})`;
  }
  if (
    issue.code === 'invalid_union' &&
    issue.discriminator !== undefined &&
    'options' in issue &&
    issue.options
  ) {
    const choices = wordList(issue.options.map(String), 'or');
    const value = getAt(data, issue.path);
    return value === undefined
      ? `${issue.discriminator} is required: ${choices}`
      : `${issue.discriminator} ${JSON.stringify(value)} is not known: use ${choices}`;
  }
  return issue.message;
}

/** `a`, `a and b`, `a, b and c`. */
function wordList(words: readonly string[], conjunction: 'and' | 'or'): string {
  return words.length > 1
    ? `${words.slice(0, -1).join(', ')} ${conjunction} ${words.at(-1)}`
    : words.join('');
}

/**
 * An unknown key, with the key meant: a near spelling among the keys allowed there, or, for a key of another
 * backend, this backend's name for the setting.
 */
function unknownKeyMessage(path: readonly PropertyKey[], key: string, data: unknown): string {
  const elsewhere = otherOptionsWithKey(PlanSchema, path, data, key);
  if (elsewhere) {
    const { discriminator, chosen, values } = elsewhere;
    const own = BACKEND_OWN_KEYS[chosen]?.[key];
    const advice = own ? `for ${discriminator} ${chosen} use ${own}` : `not of ${discriminator} ${chosen}`;
    return `unknown key "${key}": ${key} is a key of ${discriminator} ${wordList(values, 'and')}; ${advice}`;
  }
  const hint = suggestKey(key, allowedKeysAt(PlanSchema, path, data));
  return `unknown key "${key}"${hint ? ` (did you mean "${hint}"?)` : ''}`;
}

/** The kind an option of a union wanted, when the value was not even of that kind (a mapping for a list). */
function wantedKind(errors: z.core.$ZodIssue[]): string | undefined {
  const root = errors.find((error) => error.code === 'invalid_type' && error.path.length === 0);
  return root?.code === 'invalid_type' ? root.expected : undefined;
}

/**
 * A value that fits none of a union's shapes: when its kind (a list, a mapping) matches exactly one of them, the
 * problems inside that one, at their own paths; when it matches none, what the union takes.
 */
function issuesOfMatchedShape(issue: z.core.$ZodIssue): z.core.$ZodIssue[] {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return [issue];
  const kinds = issue.errors.map(wantedKind);
  const matched = issue.errors.filter((_, index) => kinds[index] === undefined);
  const [only] = matched;
  if (only && matched.length === 1)
    return only.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }));
  return matched.length === 0 ? [{ ...issue, message: `expected ${kinds.join(' or ')}` }] : [issue];
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
  const evals = plan.evals.map((spec) =>
    spec.backend === 'native'
      ? {
          ...spec,
          generation: {
            ...spec.generation,
            chat_template_kwargs: { ...defaults, ...spec.generation.chat_template_kwargs },
          },
        }
      : spec,
  );
  return { ...plan, evals };
}

/** `~/…` in the plan's paths, expanded once here: vLLM is started without a shell, which would have done it. */
function expandPlanPaths(plan: Plan): Plan {
  const server = { ...plan.server, ...(plan.server.model ? { model: expandHome(plan.server.model) } : {}) };
  const evals = plan.evals.map((spec) =>
    spec.backend === 'native' && spec.dataset_path
      ? { ...spec, dataset_path: expandHome(spec.dataset_path) }
      : spec,
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

  const { substitutions } = interpolation;
  const base = validate(doc, counter, { substitutions });
  const expanded = expandMatrix(doc, counter, substitutions);
  // A variant repeats the problems of the plan it starts from: those are reported once, at the plan.
  const known = new Set(base.problems?.map(({ field, problem }) => `${field}\0${problem.message}`));
  const problems = [
    ...(base.problems ?? []),
    ...expanded
      .flatMap(({ validated }) => validated.problems ?? [])
      .filter(({ field, problem }) => !known.has(`${field}\0${problem.message}`)),
  ].map(({ problem }) => problem);
  if (base.problems || problems.length > 0) {
    problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
    throw new PlanError(absolute, problems);
  }
  const plan = base.plan;
  const variants = expanded.flatMap(({ name, validated }) =>
    'plan' in validated ? [{ name, plan: { ...validated.plan, name: `${plan.name}-${name}` } }] : [],
  );
  const secrets = [plan, ...variants.map((v) => v.plan)].flatMap((p) =>
    collectSecrets(p, interpolation.used, env),
  );
  return { plan, variants, file: absolute, dir, secrets: [...new Set(secrets)] };
}
