import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { GateVerdict } from '../../../src/history/gates.js';
import { renderJunit } from '../../../src/report/junit.js';
import { readMatrixFolder, readRunFolder } from '../../../src/report/run-folder.js';
import { writeMatrixHtmlAndJunit } from '../../../src/report/run-reports.js';
import {
  evalSummaryOf,
  prediction,
  runSummary,
  tempDir,
  writeRunFolder,
  writeMatrixFolder,
} from './run-fixture.js';
import { findProgram, skipWithout } from './missing-tool.js';

/** The Jenkins xunit plugin's JUnit schema (test/fixtures/SOURCE.md says where it comes from). */
const SCHEMA = resolve(import.meta.dirname, '../../fixtures/junit/junit-10.xsd');
const xmllint = findProgram('xmllint');
const noXmllint = skipWithout(xmllint, 'junit.xml schema validation', {
  program: 'xmllint',
  install: 'apt-get install libxml2-utils',
});

function expectValid(xml: string): void {
  const file = join(tempDir(), 'junit.xml');
  writeFileSync(file, xml);
  const check = spawnSync(xmllint ?? 'xmllint', ['--noout', '--schema', SCHEMA, file], { encoding: 'utf8' });
  expect(check.stderr).toContain('validates');
  expect(check.status).toBe(0);
}

function gate(overrides: Partial<GateVerdict>): GateVerdict {
  return {
    name: 'quiz-no-regression',
    check: 'max_drop',
    passed: true,
    judged: true,
    eval: 'quiz',
    subset: 'OVERALL',
    metric: 'score',
    threshold: 0.1,
    value: 0.5,
    compared_with: null,
    compared_value: null,
    drop: null,
    z: null,
    detail: 'quiz OVERALL score 0.5 against 0.55, within max_drop 0.1',
    ...overrides,
  };
}

function junitOf(spec: Parameters<typeof writeRunFolder>[1]): string {
  const folder = readRunFolder(writeRunFolder(tempDir(), spec));
  return renderJunit(folder.summary.plan, [{ folder }]);
}

const fine = [prediction({ id: 'IQ-0' }), prediction({ id: 'IQ-1', extracted: 'B' })];

/** A failed run: one evaluation failed, with markup in its error, and one never started. */
function failedRunJunit(): string {
  const dir = tempDir();
  const failed = {
    ...evalSummaryOf('quiz', fine),
    status: 'failed' as const,
    error: 'vLLM <died> & "exited"',
  };
  const skipped = { ...evalSummaryOf('later', []), status: 'skipped' as const };
  const summary = runSummary(dir, [failed, skipped], {
    status: 'failed',
    exit_code: 1,
    error: 'vLLM <died>',
  });
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary));
  const folder = readRunFolder(dir);
  return renderJunit('demo', [{ folder }]);
}

/** A run with three gate checks: one failed against the previous run, one passed, one not judged. */
function gatesJunit(): string {
  return junitOf({
    evals: { quiz: fine },
    summary: {
      exit_code: 3,
      gates: [
        gate({
          passed: false,
          value: 0.5,
          threshold: 0.1,
          compared_with: { run_dir: '/out/demo/20261130-101500', kind: 'previous' },
          compared_value: 0.7,
          drop: 0.2,
          detail: 'quiz OVERALL score 0.5 dropped 0.2 from 0.7, more than max_drop 0.1',
        }),
        gate({
          name: 'quiz-floor',
          check: 'min',
          threshold: 0.4,
          detail: 'quiz OVERALL score 0.5 ≥ min 0.4',
        }),
        gate({ name: 'quiz-vs-baseline', judged: false, detail: 'max_drop 0.1: no baseline pinned' }),
      ],
    },
  });
}

describe('junit.xml', () => {
  it('has a case for the run and one per evaluation, passing for a run that ended ok', () => {
    const xml = junitOf({ evals: { quiz: fine, second: fine } });
    expect(xml).toContain('<testsuite name="evalrig demo"');
    expect(xml).toContain('tests="3" failures="0" errors="0" skipped="0"');
    expect(xml).toContain('<testcase classname="evalrig.demo" name="run" time="60"/>');
    expect(xml).toContain('<testcase classname="evalrig.demo.evals" name="quiz" time="25">');
    expect(xml).toContain('score 0.5 (IQ 0.5); 2 samples, 0 failed requests, 0 truncated');
  });

  it('fails an evaluation with failed requests: they count as wrong answers', () => {
    const xml = junitOf({
      evals: { quiz: [...fine, prediction({ id: 'IQ-2', extracted: null, error: 'HTTP 500' })] },
    });
    expect(xml).toContain(
      '<failure message="1 of 3 requests failed (counted as wrong answers)" type="RequestErrors"/>',
    );
  });

  it('does not fail an evaluation for truncated answers', () => {
    const xml = junitOf({
      evals: { quiz: [...fine, prediction({ id: 'IQ-2', extracted: null, truncated: true })] },
    });
    expect(xml).toContain('failures="0"');
  });

  it('fails the run and an evaluation that did not finish, with their errors escaped', () => {
    const xml = failedRunJunit();
    expect(xml).toContain('<failure message="run failed: vLLM &lt;died>" type="RunFailed"/>');
    expect(xml).toContain('message="evaluation failed: vLLM &lt;died> &amp; &quot;exited&quot;"');
    expect(xml).toMatch(/name="later">\s*<skipped\/>/);
  });

  it.skipIf(noXmllint)(
    'is valid under the Jenkins JUnit schema with a failed run and a skipped evaluation',
    () => {
      expectValid(failedRunJunit());
    },
  );

  it('has a case per gate check: a failed one gives the value, the threshold and the compared run', () => {
    const xml = gatesJunit();
    expect(xml).toContain('tests="5" failures="1" errors="0" skipped="1"');
    expect(xml).toContain(
      '<failure message="max_drop threshold 0.1, value 0.5, compared with the previous run ' +
        '/out/demo/20261130-101500 (value 0.7). quiz OVERALL score 0.5 dropped 0.2 from 0.7, more than max_drop 0.1"' +
        ' type="GateFailed"/>',
    );
    expect(xml).toContain('classname="evalrig.demo.gates" name="quiz-floor min"');
    expect(xml).toMatch(/name="quiz-vs-baseline max_drop">\s*<skipped\/>/);
  });

  it.skipIf(noXmllint)('is valid under the Jenkins JUnit schema with gate cases', () => {
    expectValid(gatesJunit());
  });

  it.skipIf(noXmllint)(
    'is valid under the Jenkins JUnit schema, a matrix with a case set per variant',
    () => {
      const root = writeMatrixFolder(tempDir(), ['small', 'large'], fine);
      writeMatrixHtmlAndJunit(readMatrixFolder(root));
      const xml = readFileSync(join(root, 'junit.xml'), 'utf8');
      expect(xml).toContain('classname="evalrig.demo.small.evals" name="quiz"');
      expect(xml).toContain('classname="evalrig.demo.large" name="run"');
      expectValid(xml);
    },
  );
});
