import type { EvalSpec } from '../plan/schema.js';
import type { Evaluator } from './evaluator.js';
import { nativeEvaluator } from './native/evaluator.js';

const evaluators: Record<EvalSpec['backend'], Evaluator> = {
  native: nativeEvaluator,
};

export function evaluatorFor(spec: EvalSpec): Evaluator {
  return evaluators[spec.backend];
}
