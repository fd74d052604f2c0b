import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evalscopeProgress, reusableOutput } from '../../../../src/eval/evalscope/resume.js';
import { reusesPredictions } from '../../../../src/eval/evalscope/rules.js';
import { parseVersion, type Version } from '../../../../src/util/pep440.js';

function version(text: string): Version {
  const parsed = parseVersion(text);
  if (!parsed) throw new Error(text);
  return parsed;
}

/** An eval folder with EvalScope's predictions as an interrupted run leaves them, `lines` per subset file. */
function interrupted(outputBelowWorkDir: string, lines: Record<string, string>): string {
  const evalDir = mkdtempSync(join(tmpdir(), 'evalrig-es-resume-'));
  const predictions = join(evalDir, 'evalscope-output', outputBelowWorkDir, 'predictions', 'demo-model');
  mkdirSync(predictions, { recursive: true });
  for (const [name, text] of Object.entries(lines)) writeFileSync(join(predictions, name), text);
  return evalDir;
}

describe("what a resume does with EvalScope's saved answers", () => {
  it('reuses them from 0.17 on, not before', () => {
    expect(reusesPredictions(version('0.16.3'))).toBe(false);
    expect(['0.17.1', '1.0.0', '1.4.0'].map((text) => reusesPredictions(version(text)))).toEqual([
      true,
      true,
      true,
    ]);
  });

  it("finds 1.x's answers in the work dir itself (--no-timestamp) and counts whole lines only", () => {
    const evalDir = interrupted('', {
      'iquiz_IQ.jsonl': '{"index":0}\n{"index":1}\n{"index":2',
      'iquiz_EQ.jsonl': '{"index":0}\n',
      'other_IQ.jsonl': '{"index":0}\n',
    });
    expect(reusableOutput(evalDir, version('1.4.0'))).toBe(join(evalDir, 'evalscope-output'));
    expect(evalscopeProgress(evalDir, version('1.4.0'), ['iquiz'])).toEqual({
      done: 3,
      total: null,
      resume: 'EvalScope saved 3 answers: a resume hands them to --use-cache and asks only the other samples',
    });
  });

  it("finds 0.17's answers in its timestamped folder", () => {
    const evalDir = interrupted('20260101_120000', { 'iquiz_IQ.jsonl': '{"index":0}\n' });
    expect(reusableOutput(evalDir, version('0.17.1'))).toBe(
      join(evalDir, 'evalscope-output', '20260101_120000'),
    );
    expect(evalscopeProgress(evalDir, version('0.17.1'), ['iquiz']).done).toBe(1);
  });

  it('says the eval restarts where nothing was saved or the release cannot reuse it', () => {
    const empty = mkdtempSync(join(tmpdir(), 'evalrig-es-resume-'));
    expect(reusableOutput(empty, version('1.4.0'))).toBeUndefined();
    expect(evalscopeProgress(empty, version('1.4.0'), ['iquiz'])).toEqual({
      done: 0,
      total: null,
      resume: 'EvalScope saved no answers: a resume runs it from its start',
    });
    const saved = interrupted('', { 'iquiz_IQ.jsonl': '{"index":0}\n' });
    expect(reusableOutput(saved, version('0.16.0'))).toBeUndefined();
    expect(evalscopeProgress(saved, version('0.16.0'), ['iquiz'])).toMatchObject({
      done: null,
      resume: expect.stringContaining('cannot reuse its answers (--use-cache needs 0.17.0 or later)'),
    });
  });
});
