import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PreparedEval } from '../../../../src/eval/evaluator.js';
import { PlanSchema } from '../../../../src/plan/schema.js';
import { evalProgress, runProgress } from '../../../../src/run/resume/progress.js';

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
    expect(runProgress(runDir, prepared(['a', 'b', 'c', 'd', 'e']), true)).toEqual({
      samples: { done: 3, total: 5 },
      eval_progress: [{ name: 'quiz', done: 3, total: 5, resume: 'a resume asks the other 2' }],
    });
  });

  it('counts nothing done for an evaluation that never began', () => {
    const runDir = mkdtempSync(join(tmpdir(), 'evalrig-progress-'));
    expect(runProgress(runDir, prepared(['a', 'b']), false)).toEqual({ samples: { done: 0, total: 2 } });
  });

  it('makes up no count for evaluations whose samples evalrig does not know', () => {
    const runDir = mkdtempSync(join(tmpdir(), 'evalrig-progress-'));
    const load = PlanSchema.parse({
      name: 'p',
      server: { model: 'm' },
      evals: [{ name: 'load', backend: 'perf' }],
    }).evals[0]!;
    const none: PreparedEval = {
      spec: load,
      samples: [],
      problems: [],
      provenance: { name: 'x', files: [] },
    };
    expect(runProgress(runDir, [none], true)).toEqual({
      samples: null,
      eval_progress: [
        { name: 'load', done: null, total: null, resume: 'a resume runs it again from its start' },
      ],
    });
    // Beside an evaluation with samples, only that one is counted.
    const both = [...prepared(['a', 'b']), none];
    expect(runProgress(runDir, both, true).samples).toEqual({ done: 0, total: 2 });
    expect(evalProgress(runDir, both).map((e) => e.name)).toEqual(['quiz', 'load']);
  });
});
