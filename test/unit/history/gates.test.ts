import { describe, expect, it } from 'vitest';
import { anyGateFailed, comparedRun, judgeGates, scoreDelta } from '../../../src/history/gates.js';
import { GateSchema, PlanSchema, type GateSpec } from '../../../src/plan/schema.js';
import { evalRecord, runRecord } from './fixtures.js';

const gate = (spec: Record<string, unknown>): GateSpec => GateSchema.parse(spec);

const previous = runRecord('20261130-020000');
const baseline = runRecord('20261101-020000', { evals: [evalRecord({ score: 0.95 })] });

describe('min and max', () => {
  it('passes a score at its minimum and fails one below, naming the value and the threshold', () => {
    const run = runRecord('20261201-020000', { evals: [evalRecord({ score: 0.6 })] });
    const [atMin] = judgeGates([gate({ eval: 'quiz', metric: 'score', min: 0.6 })], run, {});
    expect(atMin).toMatchObject({
      name: 'quiz.OVERALL.score',
      check: 'min',
      passed: true,
      judged: true,
      value: 0.6,
    });
    const [below] = judgeGates([gate({ name: 'floor', eval: 'quiz', metric: 'score', min: 0.65 })], run, {});
    expect(below).toMatchObject({ name: 'floor', passed: false, threshold: 0.65 });
    expect(below?.detail).toBe('quiz OVERALL score 0.6 is below min 0.65');
  });

  it('judges a subset, the rates of errors and truncations, and the time to ready', () => {
    const run = runRecord('20261201-020000', { evals: [evalRecord({ errors: 4, truncated: 2 })] });
    const verdicts = judgeGates(
      [
        gate({ eval: 'quiz', subset: 'IQ', metric: 'score', min: 0.9 }),
        gate({ eval: 'quiz', metric: 'error_rate', max: 0.05 }),
        gate({ eval: 'quiz', metric: 'truncation_rate', max: 0.05 }),
        gate({ metric: 'time_to_ready_s', max: 60 }),
      ],
      run,
      {},
    );
    expect(verdicts.map((v) => [v.name, v.value, v.passed])).toEqual([
      ['quiz.IQ.score', 0.875, false],
      ['quiz.error_rate', 0.1, false],
      ['quiz.truncation_rate', 0.05, true],
      ['time_to_ready_s', 42.5, true],
    ]);
    expect(verdicts[1]?.detail).toBe('quiz error_rate 0.1 is above max 0.05');
  });

  it('gives one verdict per check of a gate', () => {
    const run = runRecord('20261201-020000');
    const verdicts = judgeGates([gate({ eval: 'quiz', metric: 'score', min: 0.5, max_drop: 0.1 })], run, {
      previous,
    });
    expect(verdicts.map((v) => v.check)).toEqual(['min', 'max_drop']);
  });
});

describe('max_drop', () => {
  const dropped = runRecord('20261201-020000', { evals: [evalRecord({ score: 0.3 })] });

  it('fails a drop beyond max_drop against the previous run, naming that run', () => {
    const [verdict] = judgeGates([gate({ eval: 'quiz', metric: 'score', max_drop: 0.1 })], dropped, {
      previous,
    });
    expect(verdict).toMatchObject({
      passed: false,
      value: 0.3,
      compared_value: 0.9,
      compared_with: { run_dir: previous.run_dir, kind: 'previous' },
    });
    expect(verdict?.drop).toBeCloseTo(0.6, 10);
    expect(verdict?.detail).toBe(
      `quiz OVERALL score 0.3 dropped 0.6 from 0.9 (previous run ${previous.run_dir}), more than max_drop 0.1`,
    );
  });

  it('does not fail a drop of exactly max_drop between two rounded scores', () => {
    const before = runRecord('20261130-020000', { evals: [evalRecord({ score: 0.925 })] });
    const now = runRecord('20261201-020000', { evals: [evalRecord({ score: 0.825 })] });
    const [verdict] = judgeGates([gate({ eval: 'quiz', metric: 'score', max_drop: 0.1 })], now, {
      previous: before,
    });
    expect(verdict?.passed).toBe(true);
  });

  it('compares with the pinned baseline when the gate says so', () => {
    const now = runRecord('20261201-020000', { evals: [evalRecord({ score: 0.9 })] });
    const spec = gate({ eval: 'quiz', metric: 'score', max_drop: 0.04, against: 'baseline' });
    const [verdict] = judgeGates([spec], now, { previous, baseline });
    expect(verdict).toMatchObject({
      passed: false,
      compared_with: { kind: 'baseline', run_dir: baseline.run_dir },
    });
    expect(comparedRun([spec], { previous, baseline })?.kind).toBe('baseline');
    expect(
      comparedRun([gate({ eval: 'quiz', metric: 'score', max_drop: 0.04 })], { previous, baseline })?.kind,
    ).toBe('previous');
  });

  it('passes with a note what it cannot judge yet', () => {
    const [first] = judgeGates([gate({ eval: 'quiz', metric: 'score', max_drop: 0.1 })], dropped, {});
    expect(first).toMatchObject({ passed: true, judged: false });
    expect(first?.detail).toBe('max_drop 0.1: no earlier run of demo ended ok');
    const [noBaseline] = judgeGates(
      [gate({ eval: 'quiz', metric: 'score', max_drop: 0.1, against: 'baseline' })],
      dropped,
      { previous },
    );
    expect(noBaseline?.detail).toMatch(/no baseline pinned for demo \(evalrig history baseline <run-dir>\)/);
    const [notRun] = judgeGates([gate({ eval: 'other', metric: 'score', min: 0.5 })], dropped, {});
    expect(notRun).toMatchObject({
      passed: true,
      judged: false,
      detail: 'min 0.5: evaluation other did not run',
    });
  });

  it('judges nothing of a run that failed: its exit code says so already', () => {
    const failed = runRecord('20261201-020000', { status: 'failed', exit_code: 1 });
    const verdicts = judgeGates([gate({ eval: 'quiz', metric: 'score', min: 0.99 })], failed, {});
    expect(verdicts).toMatchObject([{ passed: true, judged: false, detail: 'min 0.99: the run failed' }]);
    expect(anyGateFailed(verdicts)).toBe(false);
  });

  it('with significant, passes a drop within the noise of a small sample and fails one beyond it', () => {
    const small = (score: number, stamp: string) =>
      runRecord(stamp, { evals: [evalRecord({ num: 10, score, subsets: [] })] });
    const spec = gate({ eval: 'quiz', metric: 'score', max_drop: 0.1, significant: true });
    const [noise] = judgeGates([spec], small(0.7, '20261201-020000'), {
      previous: small(0.9, '20261130-020000'),
    });
    expect(noise).toMatchObject({ passed: true, judged: true });
    expect(noise?.z).toBeCloseTo(1.118, 3);
    expect(noise?.detail).toMatch(
      /more than max_drop 0\.1 but within the noise \(z = 1\.12 ≤ 1\.96 over 10 and 10/,
    );
    const [real] = judgeGates([spec], runRecord('20261201-020000', { evals: [evalRecord({ score: 0.7 })] }), {
      previous,
    });
    expect(real).toMatchObject({ passed: false });
    expect(real?.detail).toMatch(/beyond the noise \(z = 2\.24 > 1\.96 over 40 and 40 questions\)/);
  });

  it('gives each evaluation its change against the compared run', () => {
    expect(scoreDelta(dropped, previous, 'quiz')).toBeCloseTo(-0.6, 10);
    expect(scoreDelta(dropped, undefined, 'quiz')).toBeNull();
  });
});

describe('the gates grammar', () => {
  const problems = (spec: Record<string, unknown>) =>
    GateSchema.safeParse(spec).error?.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`) ??
    [];

  it('fills in subset OVERALL and comparing with the previous run', () => {
    expect(gate({ eval: 'quiz', metric: 'score', max_drop: 0.1 })).toMatchObject({
      subset: 'OVERALL',
      against: 'previous',
      significant: false,
    });
  });

  it('says what is wrong with a gate that cannot work', () => {
    expect(problems({ eval: 'quiz', metric: 'score' })).toEqual([
      'metric: a gate needs min, max or max_drop',
    ]);
    expect(problems({ metric: 'score', min: 0.5 })).toEqual([
      'eval: metric score needs eval (the evaluation it judges)',
    ]);
    expect(problems({ eval: 'quiz', metric: 'time_to_ready_s', max: 60 })).toEqual([
      'eval: time_to_ready_s is the server start, not an evaluation: remove eval',
    ]);
    expect(problems({ eval: 'quiz', metric: 'error_rate', subset: 'IQ', max_drop: 0.1 })).toEqual([
      'subset: error_rate is counted per evaluation: subset applies to metric score only',
      'max_drop: max_drop compares scores: for error_rate use min or max',
    ]);
    expect(
      problems({ eval: 'quiz', metric: 'score', min: 0.5, significant: true, against: 'baseline' }),
    ).toEqual([
      'significant: significant qualifies max_drop: add max_drop or remove significant',
      'against: against says what max_drop compares with: add max_drop or remove against',
    ]);
    expect(problems({ eval: 'quiz', metric: 'score', min: 0.8, max: 0.5 })).toEqual([
      'max: max 0.5 is below min 0.8: no value could pass',
    ]);
  });

  it("refuses a gate naming no evaluation of the plan, suggesting the plan's", () => {
    const plan = {
      name: 'demo',
      server: { model: 'Qwen/Qwen3-8B' },
      evals: [{ name: 'demo-quiz', backend: 'native', dataset: 'iquiz' }],
      gates: [{ eval: 'demo-quizz', metric: 'score', min: 0.5 }],
    };
    const issues = PlanSchema.safeParse(plan).error?.issues ?? [];
    expect(issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      [
        'gates.0.eval',
        'no evaluation "demo-quizz" in this plan (did you mean "demo-quiz"?); it has: demo-quiz',
      ],
    ]);
  });
});
