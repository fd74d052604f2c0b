import { describe, expect, it } from 'vitest';
import type { PreparedEval } from '../../../../src/eval/evaluator.js';
import { PlanSchema } from '../../../../src/plan/schema.js';
import { datasetChanges, matrixChanges, planChanges } from '../../../../src/run/resume/changes.js';

function plan(evalOverrides: Record<string, unknown> = {}, server: Record<string, unknown> = {}) {
  return PlanSchema.parse({
    name: 'demo',
    server: { model: '/models/Qwen3-8B', served_model_name: 'Qwen3-8B', ...server },
    evals: [
      {
        name: 'quiz',
        backend: 'native',
        dataset: 'iquiz',
        dataset_path: 'data/quiz',
        generation: { temperature: 0.6, max_tokens: 1024 },
        ...evalOverrides,
      },
    ],
  });
}

describe('what a resume compares', () => {
  it('names each setting that decides the results, with its value in the run and now', () => {
    expect(planChanges(plan(), plan({ generation: { temperature: 0.7, max_tokens: 1024 } }))).toEqual([
      'evals[0].generation.temperature: 0.6 in the run, 0.7 now',
    ]);
    expect(planChanges(plan(), plan({ limit: 5, mcq: { shuffle: true, seed: 3 } }))).toEqual(
      expect.arrayContaining([
        'evals[0].limit: not set in the run, 5 now',
        'evals[0].mcq: not set in the run, {"format":"auto","layout":"iquiz","split":"val","strip_option_prefix":false,"shuffle":true,"shuffle_choices":false,"seed":3,"repeats":1,"on_bad_record":"skip"} now',
      ]),
    );
    expect(planChanges(plan(), plan({}, { model: '/models/Qwen3-14B' }))).toEqual([
      'server.model: "/models/Qwen3-8B" in the run, "/models/Qwen3-14B" now',
    ]);
  });

  it('lets the pace, the data location and the server flags change', () => {
    const faster = plan(
      {
        concurrency: 32,
        dataset_path: '/elsewhere/quiz',
        generation: { temperature: 0.6, max_tokens: 1024, timeout: 60, retries: 5 },
      },
      { gpu_memory_utilization: 0.8, max_num_seqs: 64, port: 9000 },
    );
    expect(planChanges(plan(), faster)).toEqual([]);
  });

  it('matches evaluations by name and says when the set of them changed', () => {
    const two = PlanSchema.parse({
      ...plan(),
      evals: [
        { name: 'other', backend: 'native', dataset: 'iquiz' },
        { ...plan().evals[0], generation: { temperature: 0.7, max_tokens: 1024 } },
      ],
    });
    expect(planChanges(plan(), two)).toEqual([
      'evals: quiz in the run, other, quiz now',
      'evals[1].generation.temperature: 0.6 in the run, 0.7 now',
    ]);
  });

  it("compares a matrix by its variants' names", () => {
    const matrix = (...names: string[]) => ({ matrix: names.map((name) => ({ name, set: {} })) });
    expect(matrixChanges(matrix('a', 'b'), matrix('a', 'b'))).toEqual([]);
    expect(matrixChanges(matrix('a', 'b'), matrix('a', 'b', 'c'))).toEqual([
      'matrix: variants a, b in the run, a, b, c now',
    ]);
  });

  it('compares a matrix across its two shapes, whatever max_parallel says', () => {
    const list = (...names: string[]) => ({ matrix: names.map((name) => ({ name, set: {} })) });
    const parallel = (max: number, ...names: string[]) => ({
      matrix: { max_parallel: max, variants: names.map((name) => ({ name, set: {} })) },
    });
    expect(matrixChanges(list('a', 'b'), parallel(2, 'a', 'b'))).toEqual([]);
    expect(matrixChanges(parallel(1, 'a', 'b'), parallel(3, 'a', 'b'))).toEqual([]);
    expect(matrixChanges(parallel(2, 'a', 'b'), list('a'))).toEqual([
      'matrix: variants a, b in the run, a now',
    ]);
  });

  it('names a dataset file whose checksum changed, matched by file name wherever the data lies', () => {
    const provenance = (folder: string, eq: string) => ({
      name: 'iquiz',
      files: [
        { path: `${folder}/IQ.jsonl`, sha256: 'a'.repeat(64), records: 40 },
        { path: `${folder}/EQ.jsonl`, sha256: eq, records: 40 },
      ],
    });
    const prepared = (folder: string, eq: string) =>
      [
        { spec: plan().evals[0], samples: [], problems: [], provenance: provenance(folder, eq) },
      ] as PreparedEval[];
    const recorded = [{ eval: 'quiz', ...provenance('/data', 'b'.repeat(64)) }];
    expect(datasetChanges(recorded, prepared('/moved', 'b'.repeat(64)))).toEqual([]);
    expect(datasetChanges(recorded, prepared('/data', 'c'.repeat(64)))).toEqual([
      'evals[0] (quiz) dataset file EQ.jsonl: sha256 bbbbbbbbbbbb… in the run, sha256 cccccccccccc… now',
    ]);
    // Nothing recorded for an evaluation (its data never loaded): nothing to compare.
    expect(datasetChanges([], prepared('/data', 'c'.repeat(64)))).toEqual([]);
  });
});
