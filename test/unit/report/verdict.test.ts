import { describe, expect, it } from 'vitest';
import type { GateVerdict } from '../../../src/history/gates.js';
import { verdictConsoleLines } from '../../../src/report/verdict.js';

function gate(name: string, outcome: 'pass' | 'fail' | 'unjudged'): GateVerdict {
  return {
    name,
    check: 'min',
    passed: outcome !== 'fail',
    judged: outcome !== 'unjudged',
    eval: 'quiz',
    subset: 'OVERALL',
    metric: 'score',
    threshold: 0.5,
    value: outcome === 'unjudged' ? null : outcome === 'pass' ? 0.8 : 0.2,
    compared_with: null,
    compared_value: null,
    drop: null,
    z: null,
    detail: `${name} detail`,
  };
}

const headline = (...gates: GateVerdict[]) =>
  verdictConsoleLines({ gates, compared_with: null, exit_code: 0 })[0];

describe('the verdict headline', () => {
  it('counts the failed checks first', () => {
    expect(headline(gate('a', 'fail'), gate('b', 'pass'), gate('c', 'unjudged'))).toBe(
      'Verdict: FAILED: 1 of 3 gate checks failed (exit code 0)',
    );
  });

  it('does not call a run whose checks could not be judged (an interrupted run) passed', () => {
    expect(headline(gate('a', 'unjudged'))).toBe('Verdict: not judged: none of 1 gate check could be judged');
  });

  it('says how many passed checks were judged and how many not', () => {
    expect(headline(gate('a', 'pass'), gate('b', 'unjudged'))).toBe(
      'Verdict: passed: 1 gate check, 1 not judged',
    );
    expect(headline(gate('a', 'pass'), gate('b', 'pass'))).toBe('Verdict: passed: 2 gate checks');
  });
});
