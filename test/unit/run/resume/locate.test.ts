import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { locateRun } from '../../../../src/run/resume/locate.js';

/** outputs/demo/ with a run folder per name: `run` has a manifest, `matrix` only the matrix's plan. */
function outputs(folders: Record<string, 'run' | 'matrix' | 'empty'>): string {
  const outputDir = mkdtempSync(join(tmpdir(), 'evalrig-locate-'));
  for (const [name, kind] of Object.entries(folders)) {
    const dir = join(outputDir, 'demo', name);
    mkdirSync(dir, { recursive: true });
    if (kind !== 'empty') writeFileSync(join(dir, 'plan.resolved.yaml'), 'name: demo\n');
    if (kind === 'run') writeFileSync(join(dir, 'manifest.json'), '{}');
  }
  return outputDir;
}

const search = (outputDir: string, matrix = false) => ({
  outputDir,
  planName: 'demo',
  matrix,
  freshCommand: 'evalrig plan demo.yaml',
});

describe('--resume latest and --resume DIR', () => {
  it("finds the plan's newest run of its kind, counting -N within the same second", () => {
    const outputDir = outputs({
      '20261201-101500': 'run',
      '20261201-101500-2': 'run',
      '20261201-101500-10': 'run',
      '20261201-101501': 'matrix',
      '20261201-101502': 'empty',
      notes: 'run',
    });
    expect(locateRun('latest', search(outputDir))).toBe(join(outputDir, 'demo/20261201-101500-10'));
    expect(locateRun('latest', search(outputDir, true))).toBe(join(outputDir, 'demo/20261201-101501'));
  });

  it('says how to start when the plan has no run yet', () => {
    expect(() => locateRun('latest', search(mkdtempSync(join(tmpdir(), 'evalrig-locate-'))))).toThrow(
      /plan demo has no run under .* to continue\.\nStart one: evalrig plan demo\.yaml/,
    );
  });

  it('refuses a folder that is not the kind of run the plan makes', () => {
    const outputDir = outputs({ '20261201-101500': 'matrix', '20261201-101501': 'empty' });
    const matrixDir = join(outputDir, 'demo/20261201-101500');
    mkdirSync(join(matrixDir, 'first'));
    writeFileSync(join(matrixDir, 'first/manifest.json'), '{}');
    expect(locateRun(matrixDir, search(outputDir, true))).toBe(matrixDir);
    expect(() => locateRun(matrixDir, search(outputDir))).toThrow(
      /is a matrix run, but plan demo has no matrix/,
    );
    expect(() => locateRun(join(matrixDir, 'first'), search(outputDir, true))).toThrow(
      /is a single run, but plan demo has a matrix: resume the matrix's folder\. To continue its matrix: --resume /,
    );
    expect(() => locateRun(join(outputDir, 'demo/20261201-101501'), search(outputDir))).toThrow(
      /is not a run directory of evalrig/,
    );
    expect(() => locateRun(join(outputDir, 'nowhere'), search(outputDir))).toThrow(/no such folder/);
  });
});
