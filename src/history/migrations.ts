import type { Database } from 'better-sqlite3';
import { UserError } from '../errors.js';

/**
 * The history database's schema, as the steps that build it: step i takes a database at version i to version i+1.
 * A later evalrig that changes the schema appends a step and never edits one that has shipped, so that a database
 * of any age comes up to date, step by step, when it is next opened.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    run_dir TEXT NOT NULL UNIQUE,
    plan TEXT NOT NULL,
    cell TEXT NOT NULL,
    model TEXT NOT NULL,
    vllm_version TEXT,
    evalrig_version TEXT,
    status TEXT NOT NULL,
    exit_code INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    time_to_ready_s REAL
  );
  CREATE INDEX runs_by_plan ON runs (plan, cell, started_at);
  CREATE TABLE evals (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    num INTEGER NOT NULL,
    score REAL,
    ci95_low REAL,
    ci95_high REAL,
    repeats INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    truncated INTEGER NOT NULL,
    retries INTEGER,
    latency_p50_ms REAL,
    latency_p90_ms REAL,
    PRIMARY KEY (run_id, name)
  );
  CREATE TABLE subsets (
    run_id INTEGER NOT NULL,
    eval TEXT NOT NULL,
    name TEXT NOT NULL,
    num INTEGER NOT NULL,
    score REAL,
    ci95_low REAL,
    ci95_high REAL,
    PRIMARY KEY (run_id, eval, name),
    FOREIGN KEY (run_id, eval) REFERENCES evals (run_id, name) ON DELETE CASCADE
  );
  CREATE TABLE phases (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    started_at TEXT NOT NULL,
    duration_ms REAL NOT NULL,
    PRIMARY KEY (run_id, name)
  );
  CREATE TABLE baselines (
    plan TEXT NOT NULL,
    cell TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    pinned_at TEXT NOT NULL,
    PRIMARY KEY (plan, cell)
  );
  `,
  // Perf evaluations' figures, one row per concurrency level and figure (ttft_ms.p99, output_throughput, …).
  `
  CREATE TABLE perf_figures (
    run_id INTEGER NOT NULL,
    eval TEXT NOT NULL,
    concurrency INTEGER NOT NULL,
    metric TEXT NOT NULL,
    value REAL,
    PRIMARY KEY (run_id, eval, concurrency, metric),
    FOREIGN KEY (run_id, eval) REFERENCES evals (run_id, name) ON DELETE CASCADE
  );
  `,
];

/** The schema version this evalrig writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the database to SCHEMA_VERSION. It runs in one immediate transaction, so that two evalrig processes
 * opening a new database at the same moment build it once: the second waits for the lock, then finds it done.
 */
export function migrate(db: Database, file: string): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = db.prepare('SELECT version FROM schema_version').get() as { version: number } | undefined;
    const version = row?.version ?? 0;
    if (version > SCHEMA_VERSION) {
      throw new UserError(
        `${file} has history schema version ${version}, newer than this evalrig knows (${SCHEMA_VERSION}): ` +
          'a newer evalrig wrote it. Use that evalrig, or give another --output-dir.',
      );
    }
    for (const step of MIGRATIONS.slice(version)) db.exec(step);
    if (row === undefined) db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION);
    else if (version < SCHEMA_VERSION)
      db.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION);
  }).immediate();
}
