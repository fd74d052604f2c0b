import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EvalResult, PredictionRecord } from '../../../src/eval/types.js';
import type { Manifest } from '../../../src/run/manifest.js';
import type { EvalSummary, RunSummary } from '../../../src/run/summary.js';

/** Run folders written by hand for the report's tests: the files a run leaves, with the figures they imply. */

export function prediction(fields: Partial<PredictionRecord> & { id: string }): PredictionRecord {
  const gold = fields.gold ?? 'A';
  const extracted = fields.extracted === undefined ? gold : fields.extracted;
  return {
    subset: 'IQ',
    prompt: `question ${fields.id}\nA) one\nB) two`,
    content: `答案：${extracted ?? ''}`,
    reasoning: 'thinking it over',
    extracted,
    gold,
    correct: extracted === gold,
    finish_reason: 'stop',
    truncated: false,
    error: null,
    error_kind: null,
    usage: { prompt_tokens: 50, completion_tokens: 100, total_tokens: 150 },
    ttft_ms: 20,
    latency_ms: 400,
    attempts: 1,
    ...fields,
  };
}

/** An evaluation's summary as run/summary.ts writes it, its figures counted from `records`. */
export function evalSummaryOf(name: string, records: readonly PredictionRecord[]): EvalSummary {
  const subsets = [...new Set(records.map((record) => record.subset))].map((subset) => {
    const of = records.filter((record) => record.subset === subset);
    return { name: subset, num: of.length, score: of.filter((record) => record.correct).length / of.length };
  });
  return {
    name,
    backend: 'native',
    dataset: 'iquiz',
    metric: 'mean_acc',
    status: 'ok',
    num: records.length,
    score: records.length === 0 ? null : records.filter((record) => record.correct).length / records.length,
    subsets,
    truncated: records.filter((record) => record.truncated).length,
    errors: records.filter((record) => record.error !== null).length,
    error: null,
  };
}

export function runSummary(
  runDir: string,
  evals: EvalSummary[],
  overrides: Partial<RunSummary> = {},
): RunSummary {
  return {
    status: 'ok',
    exit_code: 0,
    run_dir: runDir,
    plan: 'demo',
    model: 'Qwen3-8B',
    vllm_version: '0.17.1',
    attempt: 1,
    started_at: '2026-12-01T10:15:00.000Z',
    finished_at: '2026-12-01T10:16:00.000Z',
    duration_s: 60,
    error: null,
    samples: null,
    resume_command: null,
    evals,
    teardown: null,
    ...overrides,
  };
}

function manifestOf(startedAt: string): Manifest {
  const at = (offsetMs: number) => new Date(Date.parse(startedAt) + offsetMs).toISOString();
  const phases = {
    datasets: { started_at: at(0), duration_ms: 20 },
    start: { started_at: at(20), duration_ms: 5 },
    ready: { started_at: at(25), duration_ms: 30_000 },
    'eval:quiz': { started_at: at(30_025), duration_ms: 25_000 },
    stop: { started_at: at(55_025), duration_ms: 2_000 },
  };
  return { started_at: startedAt, phases, attempts: [] } as unknown as Manifest;
}

export interface RunFolderSpec {
  /** Predictions by evaluation; each line of predictions.jsonl in order. */
  evals: Record<string, PredictionRecord[]>;
  summary?: Partial<RunSummary>;
  /** Lines appended to an evaluation's predictions.jsonl as they are (a torn line, a superseded record). */
  extraLines?: Record<string, string[]>;
}

/** Writes a run folder (summary.json, manifest.json, evals/<name>/predictions.jsonl and result.json). */
export function writeRunFolder(dir: string, spec: RunFolderSpec): string {
  mkdirSync(dir, { recursive: true });
  const evals = Object.entries(spec.evals).map(([name, records]) => {
    const evalDir = join(dir, 'evals', name);
    mkdirSync(evalDir, { recursive: true });
    const lines = [...records.map((record) => JSON.stringify(record)), ...(spec.extraLines?.[name] ?? [])];
    writeFileSync(join(evalDir, 'predictions.jsonl'), lines.join('\n') + '\n');
    const summary = evalSummaryOf(name, records);
    const result: EvalResult = {
      name,
      backend: summary.backend,
      dataset: summary.dataset,
      metric: summary.metric,
      num: summary.num,
      score: summary.score ?? 0,
      subsets: summary.subsets,
      truncated: summary.truncated,
      errors: summary.errors,
      retries: 0,
      usage: {
        prompt_tokens: 50 * summary.num,
        completion_tokens: 100 * summary.num,
        total_tokens: 150 * summary.num,
      },
      latency_ms: { mean: 400, p50: 400, p90: 450, p99: 500, max: 500 },
      wall_ms: 25_000,
      predictions_file: join(evalDir, 'predictions.jsonl'),
    };
    writeFileSync(join(evalDir, 'result.json'), JSON.stringify(result));
    return summary;
  });
  const summary = runSummary(dir, evals, spec.summary);
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 2));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify(manifestOf(summary.started_at)));
  return dir;
}

/** A matrix folder: one run folder per variant, each with these predictions for eval `quiz`, and its summary.json. */
export function writeMatrixFolder(
  root: string,
  names: readonly string[],
  records: readonly PredictionRecord[],
): string {
  for (const name of names) writeRunFolder(join(root, name), { evals: { quiz: [...records] } });
  const variants = names.map((name) => ({ name, summary: runSummary(join(root, name), []) }));
  writeFileSync(
    join(root, 'summary.json'),
    JSON.stringify({
      status: 'ok',
      exit_code: 0,
      run_dir: root,
      plan: 'demo',
      resume_command: null,
      variants,
    }),
  );
  return root;
}

export function tempDir(prefix = 'evalrig-report-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
