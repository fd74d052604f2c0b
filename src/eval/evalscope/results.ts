import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EvalMetrics, PredictionRecord, SubsetScore } from '../types.js';

/** One dataset's report, whatever shape EvalScope wrote it in. */
export interface DatasetReport {
  dataset: string;
  model: string;
  metric: string;
  /** Micro mean over all samples, 0..1. */
  score: number;
  num: number;
  subsets: SubsetScore[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function numberAt(object: Json, key: string, where: string): number {
  const value = object[key];
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw new Error(`${where}: "${key}" is not a number`);
  return value;
}

function metricName(metric: Json): string {
  // v2 names a metric by its identity; 0.x and 1.x by `name`.
  const identity = metric.identity;
  const name = isObject(identity) ? identity.name : metric.name;
  return typeof name === 'string' ? name : 'score';
}

/**
 * Reads `reports/<model>/<dataset>.json` in the shapes of 0.x and 1.x (`score` at the top, `metrics[0]` the main
 * metric) and of `schema_version: 2` (no top-level score; `primary_metric_identity` names the main metric).
 */
export function parseReport(text: string, file: string): DatasetReport {
  let report: unknown;
  try {
    report = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (!isObject(report) || !Array.isArray(report.metrics)) throw new Error(`${file}: no "metrics" list`);
  const metrics = report.metrics.filter(isObject);
  const primary = report.primary_metric_identity;
  const wanted = isObject(primary) && typeof primary.name === 'string' ? primary.name : undefined;
  const metric = metrics.find((entry) => wanted === undefined || metricName(entry) === wanted) ?? metrics[0];
  if (!metric) throw new Error(`${file}: the "metrics" list is empty`);
  const categories = Array.isArray(metric.categories) ? metric.categories.filter(isObject) : [];
  const subsets = categories.flatMap((category) =>
    (Array.isArray(category.subsets) ? category.subsets.filter(isObject) : []).map((subset) => ({
      name: typeof subset.name === 'string' ? subset.name : 'default',
      num: numberAt(subset, 'num', file),
      score: numberAt(subset, 'score', file),
    })),
  );
  return {
    dataset: typeof report.dataset_name === 'string' ? report.dataset_name : '',
    model: typeof report.model_name === 'string' ? report.model_name : '',
    metric: metricName(metric),
    score: numberAt(metric, 'score', file),
    num: numberAt(metric, 'num', file),
    subsets,
  };
}

/**
 * The folder EvalScope wrote its results in: `workDir` itself (`--no-timestamp`), or the newest
 * `<workDir>/<timestamp>/` holding `reports/` (or, for an interrupted run, the `predictions/` it saved so far).
 */
export function findOutputFolder(
  workDir: string,
  holding: 'reports' | 'predictions' = 'reports',
): string | undefined {
  if (existsSync(join(workDir, holding))) return workDir;
  if (!existsSync(workDir)) return undefined;
  const runs = readdirSync(workDir)
    .map((name) => join(workDir, name))
    .filter((folder) => existsSync(join(folder, holding)))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs || b.localeCompare(a));
  return runs[0];
}

/** `reports/<model>/<dataset>.json`: the model folder is EvalScope's model id, so it is looked up, not assumed. */
export function findReportFile(outputFolder: string, dataset: string): string | undefined {
  const reports = join(outputFolder, 'reports');
  for (const model of readdirSync(reports)) {
    const file = join(reports, model, `${dataset}.json`);
    if (existsSync(file)) return file;
  }
  return undefined;
}

/** Several datasets in one eval: subsets are named `<dataset>/<subset>`, the score is the micro mean over all. */
export function combineReports(reports: readonly DatasetReport[]): Pick<
  EvalMetrics,
  'num' | 'score' | 'subsets'
> & {
  metric: string;
} {
  const qualify = reports.length > 1;
  const subsets = reports.flatMap((report) =>
    report.subsets.map((subset) => ({
      ...subset,
      name: qualify ? `${report.dataset}/${subset.name}` : subset.name,
    })),
  );
  const num = reports.reduce((sum, report) => sum + report.num, 0);
  const score = num === 0 ? 0 : reports.reduce((sum, report) => sum + report.score * report.num, 0) / num;
  return { num, score, subsets, metric: reports[0]?.metric ?? 'score' };
}

function reviewRecord(line: Json, subset: string): PredictionRecord {
  const sampleScore = isObject(line.sample_score) ? line.sample_score : {};
  const score = isObject(sampleScore.score) ? sampleScore.score : {};
  const value = isObject(score.value) ? score.value : {};
  const messages = Array.isArray(line.messages) ? line.messages.filter(isObject) : [];
  // 1.x keeps the conversation in `messages`; the older shape flattens it into `input`.
  const prompt = messages[0]?.content ?? line.input;
  const correct = Object.values(value).find((entry) => typeof entry === 'number');
  return {
    id: `${subset}-${String(line.index ?? sampleScore.sample_id ?? '')}`,
    subset,
    prompt: typeof prompt === 'string' ? prompt : '',
    content: typeof score.prediction === 'string' ? score.prediction : null,
    reasoning: null,
    extracted: typeof score.extracted_prediction === 'string' ? score.extracted_prediction : null,
    gold: typeof line.target === 'string' ? line.target : JSON.stringify(line.target ?? ''),
    correct: correct === 1,
    finish_reason: null,
    truncated: false,
    error: null,
    error_kind: null,
    usage: null,
    ttft_ms: null,
    latency_ms: 0,
    attempts: 1,
  };
}

/**
 * EvalScope's per-sample reviews (`reviews/<model>/<dataset>_<subset>.jsonl`, both line shapes) as evalrig's
 * prediction records, written to `file` so that the reports' sample views and flips treat both backends alike.
 * Returns how many were written.
 */
export function writeReviewsAsPredictions(
  outputFolder: string,
  datasets: readonly string[],
  file: string,
): number {
  const reviews = join(outputFolder, 'reviews');
  const records: PredictionRecord[] = [];
  for (const model of existsSync(reviews) ? readdirSync(reviews) : []) {
    for (const name of readdirSync(join(reviews, model)).sort()) {
      const dataset = datasets.find(
        (candidate) => name.startsWith(`${candidate}_`) && name.endsWith('.jsonl'),
      );
      if (!dataset) continue;
      const subsetName = name.slice(dataset.length + 1, -'.jsonl'.length);
      const subset = datasets.length > 1 ? `${dataset}/${subsetName}` : subsetName;
      for (const text of readFileSync(join(reviews, model, name), 'utf8').split('\n')) {
        if (text.trim() === '') continue;
        const line: unknown = JSON.parse(text);
        if (isObject(line)) records.push(reviewRecord(line, subset));
      }
    }
  }
  writeFileSync(file, records.map((record) => `${JSON.stringify(record)}\n`).join(''));
  return records.length;
}

/**
 * The answers EvalScope saved in `predictions/<model>/<dataset>_<subset>.jsonl` of an output folder: one whole
 * line per sample answered. A line torn by a kill mid-write is not an answer.
 */
export function countSavedPredictions(outputFolder: string, datasets: readonly string[]): number {
  const predictions = join(outputFolder, 'predictions');
  let count = 0;
  for (const model of existsSync(predictions) ? readdirSync(predictions) : []) {
    for (const name of readdirSync(join(predictions, model))) {
      if (!name.endsWith('.jsonl') || !datasets.some((dataset) => name.startsWith(`${dataset}_`))) continue;
      const lines = readFileSync(join(predictions, model, name), 'utf8')
        .split('\n')
        .slice(0, -1);
      count += lines.filter((line) => line.trim() !== '').length;
    }
  }
  return count;
}
