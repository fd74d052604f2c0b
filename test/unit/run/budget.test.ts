import { describe, expect, it } from 'vitest';
import type { PreparedEval } from '../../../src/eval/evaluator.js';
import { NativeEvalSchema } from '../../../src/plan/schema.js';
import { checkGenerationBudget } from '../../../src/run/budget.js';

function prepared(name: string, longestPromptTokens: number, maxTokens?: number): PreparedEval {
  return {
    spec: NativeEvalSchema.parse({ name, backend: 'native', dataset: 'iquiz' }),
    samples: [],
    provenance: { name, files: [] },
    problems: [],
    requestBudget: { longestPromptTokens, maxTokens },
  };
}

describe('checkGenerationBudget', () => {
  it('passes what fits, up to the last token', () => {
    expect(() =>
      checkGenerationBudget([prepared('quiz', 192, 8000)], 8192, 'server.max_model_len'),
    ).not.toThrow();
  });

  it('names each eval that cannot fit, with the numbers and the fix', () => {
    const check = () =>
      checkGenerationBudget(
        [prepared('fits', 100, 1000), prepared('quiz', 300, 8000), prepared('long', 900, 16384)],
        8192,
        'server.max_model_len',
      );
    expect(check).toThrow(/does not fit server\.max_model_len \(8192\)/);
    expect(check).toThrow(
      /quiz: the longest prompt takes at least 300 tokens and generation\.max_tokens is 8000: 8300 > 8192\. Lower max_tokens to at most 7892/,
    );
    expect(check).toThrow(/long: .*17284 > 8192/);
    expect(check).not.toThrow(/fits:/);
  });

  it('checks nothing without a limit or without max_tokens', () => {
    expect(() => checkGenerationBudget([prepared('quiz', 300, 100_000)], undefined, 'x')).not.toThrow();
    expect(() => checkGenerationBudget([prepared('quiz', 300_000)], 8192, 'x')).not.toThrow();
  });
});
