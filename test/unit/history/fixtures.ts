import type { EvalRecord, RunRecord } from '../../../src/history/record.js';

/** An evaluation as the history keeps it: 40 samples, IQ and EQ subsets. */
export function evalRecord(overrides: Partial<EvalRecord> = {}): EvalRecord {
  return {
    name: 'quiz',
    status: 'ok',
    num: 40,
    score: 0.9,
    ci95: [0.7695, 0.9604],
    repeats: 1,
    errors: 0,
    truncated: 0,
    retries: 0,
    latency_p50_ms: 120,
    latency_p90_ms: 300,
    subsets: [
      { name: 'IQ', num: 16, score: 0.875, ci95: [0.64, 0.965] },
      { name: 'EQ', num: 24, score: 0.9167, ci95: [0.74, 0.977] },
    ],
    perf: [],
    ...overrides,
  };
}

/** A run of plan demo that ended ok, in /data/outputs/demo/<stamp>. */
export function runRecord(stamp: string, overrides: Partial<RunRecord> = {}): RunRecord {
  const day = stamp.slice(0, 8);
  const time = stamp.slice(9, 15);
  const startedAt = `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}T${time.slice(0, 2)}:${time.slice(2, 4)}:${time.slice(4, 6)}.000Z`;
  return {
    run_dir: `/data/outputs/demo/${stamp}`,
    plan: 'demo',
    cell: '',
    model: 'Qwen3-8B',
    vllm_version: '0.17.1',
    evalrig_version: '0.1.0',
    status: 'ok',
    exit_code: 0,
    started_at: startedAt,
    finished_at: startedAt.replace(/\.000Z$/, '.900Z'),
    time_to_ready_s: 42.5,
    phases: [
      { name: 'start', started_at: startedAt, duration_ms: 500 },
      { name: 'ready', started_at: startedAt, duration_ms: 42_000 },
    ],
    evals: [evalRecord()],
    ...overrides,
  };
}
