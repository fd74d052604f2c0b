import { describe, expect, it } from 'vitest';
import { comparisonRows, matrixOutcomeLine } from '../../../src/report/matrix.js';
import type { MatrixSummary, RunSummary } from '../../../src/run/summary.js';
import { evalSummaryOf, prediction, runSummary } from './run-fixture.js';

const variant = (name: string, status: RunSummary['status'], exit_code = status === 'ok' ? 0 : 1) => ({
  name,
  summary: { status, exit_code } as RunSummary,
});

const matrix = (variants: MatrixSummary['variants'], notStarted?: string[]): MatrixSummary => ({
  status: 'failed',
  exit_code: 1,
  run_dir: 'out/m/1',
  plan: 'm',
  resume_command: null,
  variants,
  ...(notStarted && { not_started: notStarted }),
});

describe('matrixOutcomeLine', () => {
  it('says how many of all the variants failed, and which', () => {
    const line = matrixOutcomeLine(
      matrix([variant('a', 'failed'), variant('b', 'ok'), variant('c', 'failed'), variant('d', 'ok')], ['e']),
    );
    expect(line).toBe('Matrix: 2 of 5 variants failed: a, c; not started: 1 (e)');
  });

  it('names interrupted variants and failed gates apart from failures', () => {
    const line = matrixOutcomeLine(
      matrix([variant('a', 'interrupted', 130), variant('b', 'ok', 3), variant('c', 'ok')], ['d', 'e']),
    );
    expect(line).toBe(
      'Matrix: 0 of 5 variants failed; interrupted: 1 (a); not started: 2 (d, e); a gate failed in 1 (b)',
    );
  });

  it('is short when every variant ended ok, also for a summary written before not_started existed', () => {
    expect(matrixOutcomeLine(matrix([variant('a', 'ok'), variant('b', 'ok')]))).toBe(
      'Matrix: all 2 variants ended ok',
    );
  });
});

describe('comparisonRows', () => {
  it("leaves out an interrupted variant's partial scores, its status saying why", () => {
    const records = [prediction({ id: 'IQ-0' }), prediction({ id: 'IQ-1', extracted: 'B' })];
    const finished = runSummary('/m/a', [evalSummaryOf('quiz', records)]);
    const stopped = runSummary(
      '/m/b',
      [{ ...evalSummaryOf('quiz', records.slice(0, 1)), status: 'interrupted', error: 'stopped by SIGINT' }],
      { status: 'interrupted', exit_code: 130 },
    );
    const { rows } = comparisonRows(
      matrix([
        { name: 'a', summary: finished },
        { name: 'b', summary: stopped },
      ]),
    );
    expect(rows).toEqual([
      ['quiz', 'IQ', '0.5', '-'],
      ['quiz', 'OVERALL', '0.5', '-'],
      ['status', '', 'ok', 'interrupted'],
    ]);
  });
});
