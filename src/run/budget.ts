import { UserError } from '../errors.js';
import type { PreparedEval } from '../eval/evaluator.js';

/**
 * Prompt plus `max_tokens` must fit in the context: vLLM rejects every request that does not (HTTP 400), so a
 * too-large `max_tokens` would otherwise fail each sample after minutes of model loading.
 */
export function checkGenerationBudget(
  prepared: readonly PreparedEval[],
  maxModelLen: number | undefined,
  whose: string,
): void {
  if (maxModelLen === undefined) return;
  const problems = prepared.flatMap(({ spec, requestBudget }) => {
    if (requestBudget?.maxTokens === undefined) return [];
    const { longestPromptTokens, maxTokens } = requestBudget;
    if (longestPromptTokens + maxTokens <= maxModelLen) return [];
    return [
      `  - ${spec.name}: the longest prompt takes at least ${longestPromptTokens} tokens and generation.max_tokens is ` +
        `${maxTokens}: ${longestPromptTokens + maxTokens} > ${maxModelLen}. Lower max_tokens to at most ` +
        `${Math.max(0, maxModelLen - longestPromptTokens)}, or raise server.max_model_len.`,
    ];
  });
  if (problems.length > 0)
    throw new UserError(
      `The generation budget does not fit ${whose} (${maxModelLen}):\n${problems.join('\n')}`,
    );
}
