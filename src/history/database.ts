import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type Database from 'better-sqlite3';
import { UserError } from '../errors.js';
import { expandHome } from '../util/paths.js';
import { writeBaselineFile } from './baseline-file.js';
import { migrate } from './migrations.js';
import type { PerfGateMetric } from '../plan/schema.js';
import {
  type EvalRecord,
  noPerfFigures,
  type PerfLevelRecord,
  type PhaseRecord,
  type RunRecord,
  type ScoreRecord,
  type TrendPoint,
} from './record.js';

export const HISTORY_FILE = 'history.sqlite';

/**
 * How long a write waits for another evalrig that holds the database (SQLite's busy timeout). Writes are a few
 * rows in one transaction, over in milliseconds; this is ample for several nightly runs finishing together.
 */
export const BUSY_TIMEOUT_MS = 15_000;

/** The output folder as runs resolve it (`~` expanded, relative to the working folder). */
export function resolveOutputDir(outputDir: string): string {
  return resolve(expandHome(outputDir));
}

export interface PlanCell {
  plan: string;
  cell: string;
  runs: number;
  last_started_at: string;
}

/** A row of `runs`: the record's own fields (run_dir relative to the output folder), without its children. */
type RunRow = Omit<RunRecord, 'phases' | 'evals'> & { id: number };

interface ScoreRow {
  name: string;
  num: number;
  score: number | null;
  ci95_low: number | null;
  ci95_high: number | null;
}

type EvalRow = ScoreRow & Omit<EvalRecord, keyof ScoreRecord | 'subsets' | 'perf'>;

interface PerfFigureRow {
  eval: string;
  concurrency: number;
  metric: PerfGateMetric;
  value: number | null;
}

function scoreOf(row: ScoreRow): ScoreRecord {
  return {
    name: row.name,
    num: row.num,
    score: row.score,
    ci95: row.ci95_low === null || row.ci95_high === null ? null : [row.ci95_low, row.ci95_high],
  };
}

/** Rows of perf_figures, one per level and figure, back into levels in the order they were written. */
function perfLevelsOf(rows: readonly PerfFigureRow[]): PerfLevelRecord[] {
  const levels = new Map<number, PerfLevelRecord>();
  for (const row of rows) {
    let level = levels.get(row.concurrency);
    if (!level) {
      level = { concurrency: row.concurrency, figures: noPerfFigures() };
      levels.set(row.concurrency, level);
    }
    level.figures[row.metric] = row.value;
  }
  return [...levels.values()];
}

/**
 * better-sqlite3, required on first use: its native module takes tens of milliseconds to load, which a run spends
 * while vLLM loads (it opens the history then) rather than before it starts.
 */
function loadHistoryDriver(): typeof Database {
  return createRequire(import.meta.url)('better-sqlite3') as typeof Database;
}

/** Why the database did not open, and what to do: the file, or better-sqlite3's native module, is at fault. */
function openFailure(file: string, error: NodeJS.ErrnoException): UserError {
  const moduleFailed =
    error.code === 'ERR_DLOPEN_FAILED' || /bindings file|better_sqlite3\.node/.test(error.message);
  return new UserError(
    moduleFailed
      ? `cannot open the run history ${file}: the native module of better-sqlite3 did not load (${error.message}). ` +
          'Run `npm ci` on this machine: it builds the module from source where no prebuilt one fits ' +
          '(python3, make and a C++ compiler needed).'
      : `cannot open the run history ${file}: ${error.message}. ` +
          'Move the file aside and rebuild it with `evalrig history import <run-dir>...`.',
  );
}

const RUN_COLUMNS =
  'id, run_dir, plan, cell, model, vllm_version, evalrig_version, status, exit_code, started_at, finished_at, time_to_ready_s';

/**
 * The run history of one output folder, `<output>/history.sqlite`: every finished run of every plan written
 * there, its scores, request figures and phase timings, and the pinned baselines. Run folders are stored
 * relative to the output folder and handed out absolute.
 */
export class RunHistory {
  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
    private readonly outputDir: string,
  ) {}

  /** The history of `outputDir`; with `create`, a new one where there is none yet. */
  static open(outputDir: string, options: { create?: boolean } = {}): RunHistory {
    const root = resolveOutputDir(outputDir);
    const file = join(root, HISTORY_FILE);
    if (!existsSync(file)) {
      if (!options.create)
        throw new UserError(
          `no run history at ${file} yet: evalrig plan records every run there, and ` +
            '`evalrig history import <run-dir>...` records run folders made before.',
        );
      mkdirSync(root, { recursive: true });
    }
    let db: Database.Database;
    try {
      const Driver = loadHistoryDriver();
      db = new Driver(file, { timeout: BUSY_TIMEOUT_MS });
      db.pragma('foreign_keys = ON');
      migrate(db, file);
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw openFailure(file, error as NodeJS.ErrnoException);
    }
    return new RunHistory(db, file, root);
  }

  close(): void {
    this.db.close();
  }

  private stored(runDir: string): string {
    const absolute = resolve(runDir);
    const inside = relative(this.outputDir, absolute);
    return inside && !inside.startsWith('..') && !isAbsolute(inside) ? inside : absolute;
  }

  private absolute(stored: string): string {
    return isAbsolute(stored) ? stored : join(this.outputDir, stored);
  }

  /**
   * Records a run in one transaction, replacing the row of the same run folder: a resumed run, or a run folder
   * imported twice, stays one run, and its baseline pin stays with it. The transaction takes the write lock at
   * once, so that a concurrent writer waits (busy timeout) instead of failing half-way.
   */
  record(run: RunRecord): void {
    const db = this.db;
    db.transaction(() => {
      const { id } = db
        .prepare(
          `INSERT INTO runs (run_dir, plan, cell, model, vllm_version, evalrig_version, status, exit_code,
             started_at, finished_at, time_to_ready_s)
           VALUES (@run_dir, @plan, @cell, @model, @vllm_version, @evalrig_version, @status, @exit_code,
             @started_at, @finished_at, @time_to_ready_s)
           ON CONFLICT (run_dir) DO UPDATE SET plan = excluded.plan, cell = excluded.cell, model = excluded.model,
             vllm_version = excluded.vllm_version, evalrig_version = excluded.evalrig_version,
             status = excluded.status, exit_code = excluded.exit_code, started_at = excluded.started_at,
             finished_at = excluded.finished_at, time_to_ready_s = excluded.time_to_ready_s
           RETURNING id`,
        )
        .get({ ...run, run_dir: this.stored(run.run_dir) }) as { id: number };
      db.prepare('DELETE FROM evals WHERE run_id = ?').run(id);
      db.prepare('DELETE FROM phases WHERE run_id = ?').run(id);
      const insertEval = db.prepare(
        `INSERT INTO evals (run_id, name, status, num, score, ci95_low, ci95_high, repeats, errors, truncated,
           retries, latency_p50_ms, latency_p90_ms)
         VALUES (@run_id, @name, @status, @num, @score, @ci95_low, @ci95_high, @repeats, @errors, @truncated,
           @retries, @latency_p50_ms, @latency_p90_ms)`,
      );
      const insertSubset = db.prepare(
        `INSERT INTO subsets (run_id, eval, name, num, score, ci95_low, ci95_high)
         VALUES (@run_id, @eval, @name, @num, @score, @ci95_low, @ci95_high)`,
      );
      const insertPhase = db.prepare(
        'INSERT INTO phases (run_id, name, started_at, duration_ms) VALUES (@run_id, @name, @started_at, @duration_ms)',
      );
      const insertPerfFigure = db.prepare(
        `INSERT INTO perf_figures (run_id, eval, concurrency, metric, value)
         VALUES (@run_id, @eval, @concurrency, @metric, @value)`,
      );
      const interval = (score: ScoreRecord) => ({
        ci95_low: score.ci95?.[0] ?? null,
        ci95_high: score.ci95?.[1] ?? null,
      });
      for (const evalRecord of run.evals) {
        // Named parameters: the record's other fields (subsets, ci95) are not bound.
        insertEval.run({ ...evalRecord, ...interval(evalRecord), run_id: id });
        for (const subset of evalRecord.subsets)
          insertSubset.run({
            run_id: id,
            eval: evalRecord.name,
            name: subset.name,
            num: subset.num,
            score: subset.score,
            ...interval(subset),
          });
        for (const level of evalRecord.perf)
          for (const [metric, value] of Object.entries(level.figures))
            insertPerfFigure.run({
              run_id: id,
              eval: evalRecord.name,
              concurrency: level.concurrency,
              metric,
              value,
            });
      }
      for (const phase of run.phases) insertPhase.run({ ...phase, run_id: id });
    }).immediate();
  }

  private readRun({ id, ...run }: RunRow): RunRecord {
    const evalRows = this.db
      .prepare('SELECT * FROM evals WHERE run_id = ? ORDER BY rowid')
      .all(id) as EvalRow[];
    const subsetRows = this.db
      .prepare(
        'SELECT eval, name, num, score, ci95_low, ci95_high FROM subsets WHERE run_id = ? ORDER BY rowid',
      )
      .all(id) as (ScoreRow & { eval: string })[];
    const phases = this.db
      .prepare('SELECT name, started_at, duration_ms FROM phases WHERE run_id = ? ORDER BY started_at, rowid')
      .all(id) as PhaseRecord[];
    const perfRows = this.db
      .prepare('SELECT eval, concurrency, metric, value FROM perf_figures WHERE run_id = ? ORDER BY rowid')
      .all(id) as PerfFigureRow[];
    return {
      ...run,
      run_dir: this.absolute(run.run_dir),
      phases,
      evals: evalRows.map((evalRow) => ({
        ...scoreOf(evalRow),
        status: evalRow.status,
        repeats: evalRow.repeats,
        errors: evalRow.errors,
        truncated: evalRow.truncated,
        retries: evalRow.retries,
        latency_p50_ms: evalRow.latency_p50_ms,
        latency_p90_ms: evalRow.latency_p90_ms,
        subsets: subsetRows.filter((subset) => subset.eval === evalRow.name).map(scoreOf),
        perf: perfLevelsOf(perfRows.filter((row) => row.eval === evalRow.name)),
      })),
    };
  }

  private selectRun(where: string, ...params: unknown[]): RunRecord | undefined {
    const row = this.db.prepare(`SELECT ${RUN_COLUMNS} FROM runs WHERE ${where} LIMIT 1`).get(...params) as
      RunRow | undefined;
    return row && this.readRun(row);
  }

  /** The recorded run of a run folder. */
  run(runDir: string): RunRecord | undefined {
    return this.selectRun('run_dir = ?', this.stored(runDir));
  }

  /** The runs of a plan's cell, oldest first: the newest `limit` of them when given. */
  runs(plan: string, cell: string, limit?: number): RunRecord[] {
    const rows = this.db
      .prepare(
        `SELECT ${RUN_COLUMNS} FROM runs WHERE plan = ? AND cell = ? ORDER BY started_at DESC, id DESC LIMIT ?`,
      )
      .all(plan, cell, limit ?? -1) as RunRow[];
    return rows.reverse().map((row) => this.readRun(row));
  }

  /** Every plan and matrix cell recorded, with its run count and newest run; by plan, then cell. */
  cells(plan?: string): PlanCell[] {
    return this.db
      .prepare(
        `SELECT plan, cell, COUNT(*) AS runs, MAX(started_at) AS last_started_at FROM runs
         WHERE ? IS NULL OR plan = ? GROUP BY plan, cell ORDER BY plan, cell`,
      )
      .all(plan ?? null, plan ?? null) as PlanCell[];
  }

  /**
   * One evaluation's overall score over a plan's cell, oldest first: the newest `limit` runs when given. Runs
   * without the evaluation are left out; a run where it failed has a null score.
   */
  trend(plan: string, cell: string, evalName: string, limit?: number): TrendPoint[] {
    const rows = this.db
      .prepare(
        `SELECT runs.run_dir, runs.started_at, evals.score, runs.status FROM runs
         JOIN evals ON evals.run_id = runs.id AND evals.name = ?
         WHERE runs.plan = ? AND runs.cell = ? ORDER BY runs.started_at DESC, runs.id DESC LIMIT ?`,
      )
      .all(evalName, plan, cell, limit ?? -1) as TrendPoint[];
    return rows.reverse().map((point) => ({ ...point, run_dir: this.absolute(point.run_dir) }));
  }

  /**
   * The run a `max_drop` gate compares with by default: the newest run of the plan's cell that began before
   * `beforeStartedAt` and ended ok. Its own gates may have failed: a drop is reported by the run that saw it, and a
   * baseline pin keeps comparing with one good run.
   */
  previousRun(plan: string, cell: string, beforeStartedAt: string): RunRecord | undefined {
    return this.selectRun(
      `plan = ? AND cell = ? AND status = 'ok' AND started_at < ? ORDER BY started_at DESC, id DESC`,
      plan,
      cell,
      beforeStartedAt,
    );
  }

  /** The run pinned as the baseline of a plan's cell. */
  baseline(plan: string, cell: string): RunRecord | undefined {
    return this.selectRun('id = (SELECT run_id FROM baselines WHERE plan = ? AND cell = ?)', plan, cell);
  }

  /**
   * Pins a recorded run as the baseline of its plan and cell, in the database and in `<output>/<plan>/BASELINE`,
   * which the nightly pruning keeps. `fromFile`: the pin is read back from that file (an import), which then
   * stays as it is, since it may name runs not imported yet.
   */
  pinBaseline(runDir: string, options: { fromFile?: boolean } = {}): RunRecord {
    const run = this.run(runDir);
    if (!run) throw new UserError(`${runDir} is not in the run history ${this.file}: import it first.`);
    this.db
      .prepare(
        `INSERT INTO baselines (plan, cell, run_id, pinned_at)
         VALUES (?, ?, (SELECT id FROM runs WHERE run_dir = ?), ?)
         ON CONFLICT (plan, cell) DO UPDATE SET run_id = excluded.run_id, pinned_at = excluded.pinned_at`,
      )
      .run(run.plan, run.cell, this.stored(run.run_dir), new Date().toISOString());
    if (!options.fromFile) this.writeBaselineFile(run.plan);
    return run;
  }

  /** Unpins the baseline of a plan's cell, or of all its cells; returns how many were pinned. */
  clearBaselines(plan: string, cell?: string): number {
    const { changes } = this.db
      .prepare('DELETE FROM baselines WHERE plan = ? AND (? IS NULL OR cell = ?)')
      .run(plan, cell ?? null, cell ?? null);
    this.writeBaselineFile(plan);
    return changes;
  }

  private writeBaselineFile(plan: string): void {
    const pins = this.db
      .prepare(
        `SELECT baselines.cell, runs.run_dir FROM baselines JOIN runs ON runs.id = baselines.run_id
         WHERE baselines.plan = ? ORDER BY baselines.cell`,
      )
      .all(plan) as { cell: string; run_dir: string }[];
    writeBaselineFile(
      join(this.outputDir, plan),
      pins.map((pin) => ({ ...pin, run_dir: this.absolute(pin.run_dir) })),
    );
  }
}

/**
 * The run history of an output folder (`<output>/history.sqlite`); throws a UserError when there is none, unless
 * `create`. Close it when done.
 */
export function openHistory(outputDir: string, options: { create?: boolean } = {}): RunHistory {
  return RunHistory.open(outputDir, options);
}
