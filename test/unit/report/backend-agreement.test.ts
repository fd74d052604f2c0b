import { describe, expect, it } from 'vitest';
import {
  backendAgreements,
  compareBackends,
  renderBackendAgreement,
} from '../../../src/report/backend-agreement.js';
import type { PredictionRecord } from '../../../src/eval/types.js';
import { evalSummaryOf, prediction, runSummary } from './run-fixture.js';

const quizPrompt = (question: string): string => `问题：${question}\n选项：\nA) one\nB) two\n`;

// The native evaluator's records and EvalScope's reviews read as records: EvalScope numbers the samples its own
// way, so the first two meet by question text, the third by id.
const NATIVE = [
  prediction({ id: 'IQ-0', prompt: quizPrompt('first'), extracted: 'A' }),
  prediction({ id: 'IQ-1', prompt: quizPrompt('second'), extracted: 'B' }),
  prediction({ id: 'EQ-0', subset: 'EQ', prompt: 'no marked question', extracted: 'A' }),
  prediction({ id: 'EQ-1', subset: 'EQ', prompt: 'asked by one backend only' }),
];
const EVALSCOPE = [
  prediction({ id: 'IQ-7', prompt: `**User**: \n${quizPrompt('first')}`, extracted: 'A' }),
  prediction({ id: 'IQ-8', prompt: quizPrompt('second'), extracted: 'A', gold: 'B' }),
  prediction({ id: 'EQ-0', subset: 'EQ', prompt: 'worded otherwise', extracted: null }),
];

describe('native and EvalScope side by side', () => {
  it('pairs the samples by question text, else by id, and lists the letters that differ', () => {
    expect(compareBackends(NATIVE, EVALSCOPE)).toEqual({
      matched: 3,
      disagreements: [
        { id: 'IQ-1', subset: 'IQ', gold: 'A', native: 'B', evalscope: 'A' },
        { id: 'EQ-0', subset: 'EQ', gold: 'A', native: 'A', evalscope: null },
      ],
    });
  });

  it('compares a native evaluation with each EvalScope evaluation of its dataset, and renders the section', () => {
    const several: PredictionRecord[] = EVALSCOPE.map((record) => ({
      ...record,
      id: `iquiz/${record.id}`,
      subset: `iquiz/${record.subset}`,
    }));
    const summary = runSummary('/nowhere', [
      evalSummaryOf('native', NATIVE),
      { ...evalSummaryOf('es', EVALSCOPE), backend: 'evalscope', dataset: 'gsm8k,iquiz' },
      { ...evalSummaryOf('other', []), backend: 'evalscope', dataset: 'gsm8k' },
    ]);
    const predictions = new Map([
      ['native', NATIVE],
      ['es', [...several, prediction({ id: 'gsm8k/main-0', subset: 'gsm8k/main' })]],
    ]);
    const agreements = backendAgreements(summary, (name) => predictions.get(name) ?? []);
    expect(agreements.map(({ native, evalscope, matched }) => [native, evalscope, matched])).toEqual([
      ['native', 'es', 3],
    ]);
    expect(renderBackendAgreement(agreements)).toEqual([
      '',
      '## Native and EvalScope side by side',
      '',
      '- `native` and `es` on iquiz: 2 of 3 samples extracted differently',
      '  - IQ-1 (IQ): native B, EvalScope A, gold A',
      '  - EQ-0 (EQ): native A, EvalScope -, gold A',
    ]);
    expect(renderBackendAgreement([])).toEqual([]);
  });
});
