import { mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { BUSY_TIMEOUT_MS, HISTORY_FILE, openHistory } from '../../../src/history/database.js';
import { SCHEMA_VERSION } from '../../../src/history/migrations.js';
import { evalRecord, runRecord } from './fixtures.js';

function outputDir(): string {
  return mkdtempSync(join(tmpdir(), 'evalrig-history-'));
}

/** A run of demo written to `root` (the fixtures' runs live in /data/outputs). */
function runIn(root: string, stamp: string, overrides: Parameters<typeof runRecord>[1] = {}) {
  return runRecord(stamp, { run_dir: join(root, 'demo', stamp), ...overrides });
}

describe('the run history database', () => {
  it('keeps a run and gives it back as it was recorded', () => {
    const root = outputDir();
    const run = runIn(root, '20261201-020000');
    const history = openHistory(root, { create: true });
    history.record(run);
    expect(history.run(run.run_dir)).toEqual(run);
    history.close();
    const db = new Database(join(root, HISTORY_FILE), { readonly: true });
    expect(db.prepare('SELECT version FROM schema_version').all()).toEqual([{ version: SCHEMA_VERSION }]);
    // Relative to the output folder, so that the folder can move with its history.
    expect(db.prepare('SELECT run_dir FROM runs').get()).toEqual({
      run_dir: join('demo', '20261201-020000'),
    });
    db.close();
  });

  it('says how to make a history where there is none, and opens none without create', () => {
    expect(() => openHistory(outputDir())).toThrow(
      /no run history at .*history\.sqlite yet: evalrig plan records/,
    );
  });

  it('records the same run folder once, however often, keeping its baseline pin', () => {
    const root = outputDir();
    const history = openHistory(root, { create: true });
    const run = runIn(root, '20261201-020000');
    history.record(run);
    history.pinBaseline(run.run_dir);
    const resumed = { ...run, exit_code: 3, evals: [evalRecord({ score: 0.5, subsets: [] })] };
    history.record(resumed);
    expect(history.runs('demo', '')).toEqual([resumed]);
    expect(history.baseline('demo', '')?.run_dir).toBe(run.run_dir);
    history.close();
  });

  it('finds the previous run that ended ok, and the trend oldest first', () => {
    const root = outputDir();
    const history = openHistory(root, { create: true });
    const first = runIn(root, '20261129-020000', { evals: [evalRecord({ score: 0.8 })] });
    const second = runIn(root, '20261130-020000', { evals: [evalRecord({ score: 0.9 })] });
    const failed = runIn(root, '20261130-120000', { status: 'failed', exit_code: 1, evals: [] });
    const other = runIn(root, '20261130-130000', { cell: 'small' });
    const now = runIn(root, '20261201-020000', { evals: [evalRecord({ score: 0.3 })] });
    for (const run of [now, failed, second, first, other]) history.record(run);
    expect(history.previousRun('demo', '', now.started_at)?.run_dir).toBe(second.run_dir);
    expect(history.previousRun('demo', '', first.started_at)).toBeUndefined();
    expect(history.trend('demo', '', 'quiz')).toEqual([
      { run_dir: first.run_dir, started_at: first.started_at, score: 0.8, status: 'ok' },
      { run_dir: second.run_dir, started_at: second.started_at, score: 0.9, status: 'ok' },
      { run_dir: now.run_dir, started_at: now.started_at, score: 0.3, status: 'ok' },
    ]);
    expect(history.trend('demo', '', 'quiz', 1).map((point) => point.score)).toEqual([0.3]);
    expect(history.runs('demo', '', 2).map((run) => run.run_dir)).toEqual([failed.run_dir, now.run_dir]);
    expect(history.cells()).toEqual([
      { plan: 'demo', cell: '', runs: 4, last_started_at: now.started_at },
      { plan: 'demo', cell: 'small', runs: 1, last_started_at: other.started_at },
    ]);
    history.close();
  });

  it('pins a baseline per cell in the database and in BASELINE, and clears it', () => {
    const root = outputDir();
    const history = openHistory(root, { create: true });
    const plain = runIn(root, '20261130-020000');
    const cell = runIn(root, '20261130-030000', {
      cell: 'small',
      run_dir: join(root, 'demo', '20261130-030000', 'small'),
    });
    history.record(plain);
    history.record(cell);
    history.pinBaseline(plain.run_dir);
    history.pinBaseline(cell.run_dir);
    const file = join(root, 'demo', 'BASELINE');
    expect(readFileSync(file, 'utf8').split('\n').slice(1)).toEqual([
      '20261130-020000',
      '20261130-030000  # cell small',
      '',
    ]);
    expect(history.baseline('demo', 'small')?.run_dir).toBe(cell.run_dir);
    expect(history.clearBaselines('demo', 'small')).toBe(1);
    expect(readFileSync(file, 'utf8')).not.toContain('small');
    expect(history.clearBaselines('demo')).toBe(1);
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
    expect(() => history.pinBaseline(join(root, 'demo', 'elsewhere'))).toThrow(/is not in the run history/);
    history.close();
  });

  it('moves with its output folder', () => {
    const root = outputDir();
    const history = openHistory(root, { create: true });
    history.record(runIn(root, '20261201-020000'));
    history.close();
    const moved = `${root}-moved`;
    renameSync(root, moved);
    const reopened = openHistory(moved);
    expect(reopened.runs('demo', '').map((run) => run.run_dir)).toEqual([
      join(moved, 'demo', '20261201-020000'),
    ]);
    reopened.close();
  });

  it('refuses a database of a newer schema, saying what to do', () => {
    const root = outputDir();
    const db = new Database(join(root, HISTORY_FILE));
    db.exec(
      `CREATE TABLE schema_version (version INTEGER NOT NULL); INSERT INTO schema_version VALUES (${SCHEMA_VERSION + 1})`,
    );
    db.close();
    expect(() => openHistory(root)).toThrow(
      /schema version \d+, newer than this evalrig knows .*Use that evalrig, or give another --output-dir/,
    );
  });

  it('says how to rebuild a database that is not one', () => {
    const root = outputDir();
    writeFileSync(join(root, HISTORY_FILE), 'not a database, just text long enough to have a header page');
    expect(() => openHistory(root)).toThrow(/cannot open the run history .*evalrig history import/);
  });

  it('waits for another evalrig holding the database instead of losing the run', async () => {
    const root = outputDir();
    openHistory(root, { create: true }).close();
    // Another process takes the write lock and holds it for a second.
    const holder = execa(
      'node',
      [
        '-e',
        `const Database = require('better-sqlite3');
         const db = new Database(${JSON.stringify(join(root, HISTORY_FILE))});
         db.exec('BEGIN IMMEDIATE');
         console.log('locked');
         setTimeout(() => { console.log('releasing at', Date.now()); db.exec('COMMIT'); db.close(); }, 1000);`,
      ],
      { cwd: process.cwd() },
    );
    await new Promise<void>((resolve) => holder.stdout?.once('data', () => resolve()));
    const started = Date.now();
    const history = openHistory(root);
    history.record(runIn(root, '20261201-020000'));
    const recordedAt = Date.now();
    expect(history.runs('demo', '')).toHaveLength(1);
    history.close();
    // The record went in after the holder let go: it waited, rather than slipping past the lock.
    const releasedAt = Number(/releasing at (\d+)/.exec((await holder).stdout)?.[1]);
    expect(recordedAt).toBeGreaterThanOrEqual(releasedAt);
    // …and far sooner than the busy timeout, after which it would have given up.
    expect(recordedAt - started).toBeLessThan(BUSY_TIMEOUT_MS);
  });
});
