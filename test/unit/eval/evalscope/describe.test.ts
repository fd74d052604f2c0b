import { describe, expect, it } from 'vitest';
import { describeEvalScope, resolveEvalScope } from '../../../../src/eval/evalscope/describe.js';
import { commandLines } from '../../../../src/eval/evalscope/rules.js';
import { EvalScopeEvalSchema } from '../../../../src/plan/schema.js';

function spec(settings: Record<string, unknown> = {}) {
  return EvalScopeEvalSchema.parse({ name: 'es', backend: 'evalscope', datasets: ['iquiz'], ...settings });
}

describe('what a dry run shows of an EvalScope eval', () => {
  it("is the command for the eval's version, the endpoint left to the run", () => {
    const { lines } = describeEvalScope(spec({ version: '0.17.1' }));
    expect(lines).toEqual([
      "command: evalscope eval --model '<served model>' --api-url '<server>/v1' --api-key *** --eval-type service --eval-batch-size 8 --datasets iquiz --work-dir '<evals/<name>/evalscope-output>'",
    ]);
  });

  it('is one command per command line the rules know when the version is unknown', () => {
    expect(commandLines().map(({ releases }) => releases)).toEqual(['before 1.0.0', 'from 1.0.0']);
    const [headline, older, newer] = describeEvalScope(spec()).lines;
    expect(headline).toBe('command: depends on the EvalScope version, which is unknown');
    expect(older).toMatch(/^before 1\.0\.0: evalscope eval .* --eval-type service .*evalscope-output>'$/);
    expect(newer).toMatch(/^from 1\.0\.0: evalscope eval .* --eval-type openai_api .* --no-timestamp$/);
  });

  it('asks nothing of a pinned version', async () => {
    const pinned = spec({ version: '1.4.0', executable: '/nonexistent/evalscope' });
    expect(await resolveEvalScope(pinned, { signal: new AbortController().signal })).toEqual({
      spec: pinned,
      notes: [],
    });
  });

  it('says why the version is unknown and what to do, the spec left as it is', async () => {
    const missing = spec({ executable: '/nonexistent/evalscope' });
    const { spec: resolved, notes } = await resolveEvalScope(missing, {
      signal: new AbortController().signal,
    });
    expect(resolved).toBe(missing);
    expect(notes).toEqual([
      'the EvalScope version is unknown: EvalScope is not installed: /nonexistent/evalscope: command not found',
      expect.stringMatching(
        /^fix: install EvalScope .*pip install evalscope.*, or pin the eval's `version:`/,
      ),
    ]);
  });
});
