import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openHistory } from '../../../src/history/database.js';
import { historyJson, renderHistory } from '../../../src/report/trend.js';
import { evalRecord, runRecord } from '../history/fixtures.js';

function historyOfThreeRuns() {
  const root = mkdtempSync(join(tmpdir(), 'evalrig-trend-'));
  const history = openHistory(root, { create: true });
  const scores = [0.9, 0.9, 0.3];
  ['20261129-020000', '20261130-020000', '20261201-020000'].forEach((stamp, index) =>
    history.record(
      runRecord(stamp, {
        run_dir: join(root, 'demo', stamp),
        exit_code: index === 2 ? 3 : 0,
        evals: [evalRecord({ score: scores[index] ?? null }), evalRecord({ name: 'other', score: 0.5 })],
      }),
    ),
  );
  history.pinBaseline(join(root, 'demo', '20261129-020000'));
  return history;
}

describe('evalrig history', () => {
  it("shows a plan's runs per evaluation with the change from the run before, and a sparkline in a terminal", () => {
    const history = historyOfThreeRuns();
    const text = renderHistory(history, { plan: 'demo', evalName: 'quiz', limit: 20, sparkline: true });
    expect(text).toMatch(/^demo, quiz:/);
    expect(text).toMatch(/20261129-020000 .* 0\.9 .* 0\.7695–0\.9604 .* - .* ok, baseline/);
    expect(text).toMatch(/20261201-020000 .* 0\.3 .* -0\.6 .* gate failed \(exit 3\)/);
    expect(text).toContain('quiz  ██▁  0.9 → 0.3 over 3 runs');
    expect(text).not.toContain('other');
    expect(renderHistory(history, { plan: 'demo', limit: 20, sparkline: false })).not.toContain('██▁');
    history.close();
  });

  it('lists the plans recorded, and says when a plan has none', () => {
    const history = historyOfThreeRuns();
    expect(renderHistory(history, { limit: 20, sparkline: false })).toMatch(
      /demo .* - .* 3 .* 20261129-020000/,
    );
    expect(renderHistory(history, { plan: 'nope', limit: 20, sparkline: false })).toMatch(
      /^No runs of plan nope in/,
    );
    history.close();
  });

  it('prints the newest runs as JSON, with the evaluation asked for', () => {
    const history = historyOfThreeRuns();
    const json = historyJson(history, { plan: 'demo', evalName: 'other', limit: 2 }) as {
      cells: { baseline: string; runs: { evals: { name: string }[] }[] }[];
    };
    expect(json.cells[0]?.runs).toHaveLength(2);
    expect(json.cells[0]?.runs.flatMap((run) => run.evals.map((e) => e.name))).toEqual(['other', 'other']);
    expect(json.cells[0]?.baseline).toMatch(/20261129-020000$/);
    history.close();
  });
});
