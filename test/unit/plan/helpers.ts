import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { loadPlan, PlanError, type LoadOptions, type PlanProblem } from '../../../src/plan/load.js';

/** A plan file in a fresh folder, with other files (`.env`, data) beside it. */
export function writePlan(text: string, extra: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'evalrig-plan-'));
  for (const [name, content] of Object.entries(extra)) writeFileSync(join(dir, name), content);
  const file = join(dir, 'plan.yaml');
  writeFileSync(file, text);
  return file;
}

/** The problems loading reports for a plan that must be rejected. */
export function problemsOf(file: string, options: LoadOptions = {}): PlanProblem[] {
  try {
    loadPlan(file, options);
  } catch (error) {
    expect(error).toBeInstanceOf(PlanError);
    return (error as PlanError).problems;
  }
  throw new Error('expected the plan to be rejected');
}

/** A small valid plan: one server, one IQuiz evaluation. */
export const VALID = `name: t
server:
  model: /models/Qwen3-8B
  served_model_name: Qwen3-8B
  max_model_len: 8192
evals:
  - name: iq
    backend: native
    dataset: iquiz
    dataset_path: ./data
`;
