import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parse, stringify } from 'yaml';
import { UserError } from '../../errors.js';
import type { PreparedEval } from '../../eval/evaluator.js';
import type { LoadedPlan } from '../../plan/load.js';
import { maskPlan } from '../../plan/secrets.js';
import type { Manifest } from '../manifest.js';
import { RESOLVED_PLAN_FILE } from '../run-dir.js';
import { pastablePath } from './command-line.js';

/**
 * What the plan's evaluations may change between attempts: how fast and how patiently samples are asked, and
 * where the data lies (its checksums are compared instead). Everything else in an evaluation decides its results.
 */
const PACE_KEYS = new Set([
  'concurrency',
  'dataset_path',
  'generation.timeout',
  'generation.max_request_time',
  'generation.retries',
  'generation.max_consecutive_failures',
]);

/** Of the server settings, those that decide which model answers and how its answers are read. */
const SERVED_MODEL_KEYS = ['model', 'served_model_name', 'quantization', 'dtype', 'reasoning_parser'];

/** A resume that would mix results of two different evaluations in one run. Exit 2, before anything starts. */
export class ResumeRefusedError extends UserError {
  constructor(runDir: string, changes: readonly string[], freshCommand: string) {
    super(
      [
        `Cannot resume ${pastablePath(runDir)}: what decides its results changed since the run began:`,
        ...changes.map((change) => `  ${change}`),
        `Put the plan back as it was to continue that run, or start a fresh run instead: ${freshCommand}`,
      ].join('\n'),
    );
    this.name = 'ResumeRefusedError';
  }
}

type Tree = Record<string, unknown>;

function asTree(value: unknown): Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Tree) : {};
}

function asList(value: unknown): Tree[] {
  return Array.isArray(value) ? value.map(asTree) : [];
}

function show(value: unknown): string {
  return value === undefined ? 'not set' : JSON.stringify(value);
}

/** One line per leaf that differs, `path: before in the run, after now`; `skip` names paths below `path`. */
function compare(
  path: string,
  before: unknown,
  after: unknown,
  changes: string[],
  skip: ReadonlySet<string> = new Set(),
  below = '',
): void {
  if (skip.has(below)) return;
  const isTree = (value: unknown) => typeof value === 'object' && value !== null && !Array.isArray(value);
  if (isTree(before) && isTree(after)) {
    const keys = new Set([...Object.keys(asTree(before)), ...Object.keys(asTree(after))]);
    for (const key of keys)
      compare(
        `${path}.${key}`,
        asTree(before)[key],
        asTree(after)[key],
        changes,
        skip,
        below ? `${below}.${key}` : key,
      );
    return;
  }
  if (!isDeepStrictEqual(before, after))
    changes.push(`${path}: ${show(before)} in the run, ${show(after)} now`);
}

function names(evals: Tree[]): string {
  return evals.map((spec) => String(spec['name'])).join(', ') || 'none';
}

/**
 * How `now` differs from the plan a run began with, in what decides its results: the plan's name, the served
 * model, and each evaluation (matched by name) but for its pace. Both sides as plan.resolved.yaml holds them.
 */
export function planChanges(run: unknown, now: unknown): string[] {
  const changes: string[] = [];
  const [before, after] = [asTree(run), asTree(now)];
  compare('name', before['name'], after['name'], changes);
  for (const key of SERVED_MODEL_KEYS)
    compare(`server.${key}`, asTree(before['server'])[key], asTree(after['server'])[key], changes);
  const [runEvals, nowEvals] = [asList(before['evals']), asList(after['evals'])];
  const sorted = (evals: Tree[]) => evals.map((spec) => String(spec['name'])).sort();
  if (!isDeepStrictEqual(sorted(runEvals), sorted(nowEvals)))
    changes.push(`evals: ${names(runEvals)} in the run, ${names(nowEvals)} now`);
  nowEvals.forEach((spec, index) => {
    const earlier = runEvals.find((candidate) => candidate['name'] === spec['name']);
    if (earlier) compare(`evals[${index}]`, earlier, spec, changes, PACE_KEYS);
  });
  return changes;
}

/**
 * A matrix is the same matrix while its variants keep their names, in either of its shapes; how many run at once
 * decides no result. Each variant's run is compared on its own.
 */
export function matrixChanges(run: unknown, now: unknown): string[] {
  const variants = (plan: unknown) => {
    const matrix = asTree(plan)['matrix'];
    return asList(Array.isArray(matrix) ? matrix : asTree(matrix)['variants']);
  };
  const [before, after] = [variants(run), variants(now)];
  return isDeepStrictEqual(
    before.map((variant) => variant['name']),
    after.map((variant) => variant['name']),
  )
    ? []
    : [`matrix: variants ${names(before)} in the run, ${names(after)} now`];
}

/** The plan a run began with, and the plan now, both as plan.resolved.yaml writes them (secrets masked). */
export function resolvedPlans(runDir: string, loaded: Pick<LoadedPlan, 'plan' | 'secrets'>) {
  return {
    run: parse(readFileSync(join(runDir, RESOLVED_PLAN_FILE), 'utf8')) as unknown,
    now: parse(stringify(maskPlan(loaded.plan, loaded.secrets))) as unknown,
  };
}

const shortSum = (sha256: string) => sha256.slice(0, 12);

/**
 * Dataset files whose checksum differs from the one the run recorded, per evaluation; files are matched by name,
 * so that data moved elsewhere with the same content still resumes.
 */
export function datasetChanges(recorded: Manifest['datasets'], prepared: readonly PreparedEval[]): string[] {
  const changes: string[] = [];
  prepared.forEach(({ spec, provenance }, index) => {
    const earlier = recorded.find((entry) => entry.eval === spec.name);
    if (!earlier) return;
    const sums = (files: { path: string; sha256: string }[]) =>
      new Map(files.map((file) => [basename(file.path), file.sha256]));
    const [before, after] = [sums(earlier.files), sums(provenance.files)];
    for (const file of new Set([...before.keys(), ...after.keys()])) {
      const [then, current] = [before.get(file), after.get(file)];
      if (then === current) continue;
      changes.push(
        `evals[${index}] (${spec.name}) dataset file ${file}: ` +
          `${then ? `sha256 ${shortSum(then)}…` : 'not there'} in the run, ${current ? `sha256 ${shortSum(current)}…` : 'not there'} now`,
      );
    }
  });
  return changes;
}
