import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { openHistory } from '../../../src/history/database.js';
import { importRunFolders } from '../../../src/run/history-import.js';

function writeJson(file: string, value: unknown): void {
  writeFileSync(file, JSON.stringify(value));
}

/** A run folder as evalrig leaves it: summary.json, manifest.json, evals/quiz/result.json. */
function writeRunFolder(runDir: string, plan: string, score: number): void {
  mkdirSync(join(runDir, 'evals', 'quiz'), { recursive: true });
  writeJson(join(runDir, 'summary.json'), {
    status: 'ok',
    exit_code: 0,
    run_dir: '/where/it/ran/first',
    plan,
    model: 'Qwen3-8B',
    vllm_version: '0.17.1',
    started_at: '2026-12-01T02:00:10.000Z',
    finished_at: '2026-12-01T02:01:00.000Z',
    evals: [
      {
        name: 'quiz',
        status: 'ok',
        num: 40,
        score,
        subsets: [{ name: 'IQ', num: 40, score }],
        truncated: 1,
        errors: 2,
        error: null,
      },
    ],
  });
  writeJson(join(runDir, 'manifest.json'), {
    evalrig_version: '0.1.0',
    started_at: '2026-12-01T02:00:00.000Z',
    phases: { ready: { started_at: '2026-12-01T02:00:01.000Z', duration_ms: 2500 } },
    attempts: [{ evalrig_version: '0.0.9' }],
  });
  writeJson(join(runDir, 'evals', 'quiz', 'result.json'), {
    retries: 3,
    latency_ms: { mean: 1, p50: 110, p90: 250, p99: 300, max: 310 },
  });
}

describe('evalrig history import', () => {
  it('records a run folder from its files, in the history of the output folder it was written to', () => {
    const root = mkdtempSync(join(tmpdir(), 'evalrig-import-'));
    const runDir = join(root, 'demo', '20261201-020000');
    writeRunFolder(runDir, 'demo', 0.9);
    expect(importRunFolders([runDir])).toMatchObject([
      { run_dir: runDir, plan: 'demo', cell: '', repinned: false },
    ]);
    importRunFolders([runDir]);
    const history = openHistory(root);
    expect(history.runs('demo', '')).toMatchObject([
      {
        run_dir: runDir,
        started_at: '2026-12-01T02:00:00.000Z',
        evalrig_version: '0.0.9',
        time_to_ready_s: 2.5,
        evals: [
          {
            name: 'quiz',
            score: 0.9,
            errors: 2,
            truncated: 1,
            retries: 3,
            latency_p50_ms: 110,
            latency_p90_ms: 250,
          },
        ],
      },
    ]);
    history.close();
  });

  it('imports each variant of a matrix folder as a cell of its plan, and pins again what BASELINE pins', () => {
    const root = mkdtempSync(join(tmpdir(), 'evalrig-import-'));
    const matrixDir = join(root, 'sweep', '20261201-020000');
    mkdirSync(matrixDir, { recursive: true });
    writeFileSync(
      join(matrixDir, 'plan.resolved.yaml'),
      stringify({
        name: 'sweep',
        matrix: [
          { name: 'small', set: {} },
          { name: 'large', set: {} },
        ],
      }),
    );
    writeJson(join(matrixDir, 'summary.json'), {
      plan: 'sweep',
      variants: [{ name: 'small' }, { name: 'large' }],
    });
    writeRunFolder(join(matrixDir, 'small'), 'sweep-small', 0.7);
    writeRunFolder(join(matrixDir, 'large'), 'sweep-large', 0.9);
    writeFileSync(join(root, 'sweep', 'BASELINE'), '# pinned\n20261201-020000  # cell large\n');

    const imported = importRunFolders([matrixDir]);
    expect(imported.map((run) => [run.plan, run.cell, run.repinned])).toEqual([
      ['sweep', 'small', false],
      ['sweep', 'large', true],
    ]);
    // A variant's folder alone is known as its matrix's cell too.
    expect(importRunFolders([join(matrixDir, 'small')])).toMatchObject([{ plan: 'sweep', cell: 'small' }]);
    const history = openHistory(root);
    expect(history.baseline('sweep', 'large')?.run_dir).toBe(join(matrixDir, 'large'));
    expect(history.baseline('sweep', 'small')).toBeUndefined();
    history.close();
  });

  it('says what is missing when a folder cannot be imported', () => {
    const root = mkdtempSync(join(tmpdir(), 'evalrig-import-'));
    expect(() => importRunFolders([root])).toThrow(
      /has no summary\.json: only a run that ended .* can be imported/,
    );
    const loose = join(root, 'somewhere');
    writeRunFolder(loose, 'demo', 0.9);
    expect(() => importRunFolders([loose])).toThrow(
      /is not inside a folder named after its plan demo .*--output-dir/,
    );
    expect(importRunFolders([loose], join(root, 'out'))).toMatchObject([{ run_dir: loose }]);
  });
});
