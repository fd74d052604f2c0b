import { ok, skipped } from './results.js';
import type { CheckResult, HostFacts, PreflightInput } from './types.js';

export function checkEvalscope(input: PreflightInput, facts: HostFacts): CheckResult | null {
  const title = 'EvalScope';
  const tool = facts.evalscope;
  // Not probed: the plan needs no EvalScope, so there is nothing to say.
  if (tool === null) return input.needsEvalscope ? skipped('evalscope', title, 'not probed') : null;
  if (tool.found)
    return ok('evalscope', title, `evalscope ${tool.version ?? '(version unknown)'} (${tool.detail})`);
  if (input.needsEvalscope) {
    return {
      id: 'evalscope',
      title,
      status: 'error',
      detail: `not found: ${tool.detail}`,
      fix: 'pip install evalscope (the plan has evalscope evals).',
    };
  }
  // Without a plan nothing needs it, but a plan may.
  if (input.absentIs === 'warning') {
    return {
      id: 'evalscope',
      title,
      status: 'warning',
      detail: `not found: ${tool.detail}`,
      fix: 'pip install evalscope, if you want backend: evalscope; native evals do not need it.',
    };
  }
  return skipped('evalscope', title, 'not installed; this plan does not use it');
}

export function checkPython(facts: HostFacts): CheckResult {
  const title = 'Python';
  const tool = facts.python;
  if (tool === null)
    return skipped('python', title, 'not probed: no Python program of this plan runs on this host');
  if (tool.found)
    return ok('python', title, `Python ${tool.version ?? '(version unknown)'} (${tool.command})`);
  return {
    id: 'python',
    title,
    status: 'warning',
    detail: `not found: ${tool.detail}`,
    fix: 'Install Python 3 (vLLM and EvalScope are Python programs) or activate their virtualenv.',
  };
}
