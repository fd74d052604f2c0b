import type { EvalSpec } from '../plan/schema.js';
import type { Evaluator } from './evaluator.js';
import { evalscopeEvaluator } from './evalscope/evaluator.js';
import { nativeEvaluator } from './native/evaluator.js';
import { perfEvaluator } from './perf/evaluator.js';

const evaluators: Record<EvalSpec['backend'], Evaluator> = {
  native: nativeEvaluator,
  evalscope: evalscopeEvaluator,
  perf: perfEvaluator,
};

export function evaluatorFor(spec: EvalSpec): Evaluator {
  return evaluators[spec.backend];
}
