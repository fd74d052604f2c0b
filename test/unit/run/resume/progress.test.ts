import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PreparedEval } from '../../../../src/eval/evaluator.js';
import { PlanSchema } from '../../../../src/plan/schema.js';
import { sampleProgress } from '../../../../src/run/resume/progress.js';

const spec = PlanSchema.parse({
  name: 'p',
  server: { model: 'm' },
  evals: [{ name: 'quiz', backend: 'native', dataset: 'iquiz', dataset_path: 'd' }],
}).evals[0]!;

function prepared(ids: string[]): PreparedEval[] {
  const samples = ids.map((id) => ({
    id,
    subset: 'IQ',
    question: 'q',
    choices: ['a', 'b'],
    answer: 'A',
    meta: {},
  }));
  return [{ spec, samples, problems: [], provenance: { name: 'iquiz', files: [] } }];
}

describe('how far a run got', () => {
  it('counts samples whose newest record is an answer or a permanent error, each once', () => {
    const runDir = mkdtempSync(join(tmpdir(), 'evalrig-progress-'));
    mkdirSync(join(runDir, 'evals/quiz'), { recursive: true });
    const line = (id: string, error: string | null = null, kind: string | null = null) =>
      JSON.stringify({ id, error, error_kind: kind }) + '\n';
    writeFileSync(
      join(runDir, 'evals/quiz/predictions.jsonl'),
      line('a') +
        line('b', 'HTTP 500', 'transient') +
        line('b') + // asked again and answered
        line('c', 'HTTP 400', 'permanent') +
        line('d', 'HTTP 503', 'transient') +
        line('a') + // the same sample twice still counts once
        line('other') + // not one of this run's samples
        '{"id":"e","err', // torn by a kill
    );
    expect(sampleProgress(runDir, prepared(['a', 'b', 'c', 'd', 'e']))).toEqual({ done: 3, total: 5 });
  });

  it('counts nothing done for an evaluation that never began', () => {
    const runDir = mkdtempSync(join(tmpdir(), 'evalrig-progress-'));
    expect(sampleProgress(runDir, prepared(['a', 'b']))).toEqual({ done: 0, total: 2 });
  });
});
