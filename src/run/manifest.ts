import { readFileSync } from 'node:fs';
import { hostname, platform, release } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../errors.js';
import type { DatasetProvenance } from '../datasets/types.js';
import type { ServePlan, ServerHandle, StopReport } from '../server/runtime.js';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { evalrigVersion } from '../util/evalrig-version.js';
import { MANIFEST_FILE } from './run-dir.js';
import type { RunStatus } from './summary.js';

export interface PhaseTiming {
  started_at: string;
  duration_ms: number;
}

/** One go at the run: the first, then one more per `--resume`. */
export interface ManifestAttempt {
  started_at: string;
  /** Null while the attempt runs, and for good when evalrig died without finishing it. */
  finished_at: string | null;
  status: RunStatus | null;
  exit_code: number | null;
  evalrig_version: string;
  hostname: string;
  pid: number;
  server_pid: number | null;
  container_id: string | null;
  /** datasets, start, ready, eval:<name>, stop: when each began and how long it took. */
  phases: Record<string, PhaseTiming>;
  teardown: StopReport | null;
}

/**
 * manifest.json: what ran, where, with which versions and how long each phase took. Rewritten as the run goes;
 * `server`, `phases` and `teardown` describe the latest attempt, `attempts` keeps every attempt's own.
 */
export interface Manifest {
  evalrig_version: string;
  run_id: string;
  plan_file: string;
  host: { hostname: string; platform: string; node: string; pid: number };
  /** When the first attempt began. */
  started_at: string;
  server: {
    runtime: string;
    /** The command that started the server, secrets masked. */
    argv: string[];
    pid: number | null;
    container_id: string | null;
    base_url: string | null;
    /** What the server reported at /version once ready. */
    vllm_version: string | null;
    vllm_version_detected: string | null;
    vllm_version_source: string;
    notices: string[];
    max_model_len: number | null;
    /** KV cache tokens and maximum concurrency, as vLLM logged them. */
    capacity: Record<string, number>;
  };
  /** Each evaluation's data, with a checksum per file: a resume refuses data that changed. */
  datasets: (DatasetProvenance & { eval: string })[];
  phases: Record<string, PhaseTiming>;
  teardown: StopReport | null;
  attempts: ManifestAttempt[];
}

export interface ManifestInit {
  runId: string;
  planFile: string;
  runtime: string;
  serve: ServePlan;
  startedAt: Date;
}

function currentHost(): Manifest['host'] {
  return {
    hostname: hostname(),
    platform: `${platform()} ${release()}`,
    node: process.version,
    pid: process.pid,
  };
}

function serverOf(init: ManifestInit): Manifest['server'] {
  return {
    runtime: init.runtime,
    argv: [],
    pid: null,
    container_id: null,
    base_url: null,
    vllm_version: null,
    vllm_version_detected: init.serve.version?.raw ?? null,
    vllm_version_source: init.serve.versionSource,
    notices: init.serve.notices,
    max_model_len: null,
    capacity: {},
  };
}

function attemptOf(init: ManifestInit): ManifestAttempt {
  return {
    started_at: init.startedAt.toISOString(),
    finished_at: null,
    status: null,
    exit_code: null,
    evalrig_version: evalrigVersion(),
    hostname: hostname(),
    pid: process.pid,
    server_pid: null,
    container_id: null,
    phases: {},
    teardown: null,
  };
}

export class ManifestFile {
  private constructor(
    private readonly runDir: string,
    readonly data: Manifest,
    /** While held, changes stay in memory: a resume can still be refused without touching the run. */
    private held: boolean,
  ) {
    this.write();
  }

  /** A new run's manifest, written at once. */
  static create(runDir: string, init: ManifestInit): ManifestFile {
    return new ManifestFile(
      runDir,
      {
        evalrig_version: evalrigVersion(),
        run_id: init.runId,
        plan_file: init.planFile,
        host: currentHost(),
        started_at: init.startedAt.toISOString(),
        server: serverOf(init),
        datasets: [],
        phases: {},
        teardown: null,
        attempts: [attemptOf(init)],
      },
      false,
    );
  }

  /**
   * The manifest of a run being resumed, with a new attempt. Nothing is written before `accept()`, so that a
   * resume refused meanwhile (its data changed) leaves the run directory as it was.
   */
  static continue(runDir: string, init: ManifestInit): ManifestFile {
    const file = join(runDir, MANIFEST_FILE);
    let previous: Manifest;
    try {
      previous = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    } catch (error) {
      throw new UserError(
        `Cannot resume ${runDir}: ${file} is not readable (${(error as Error).message}); start a fresh run instead.`,
      );
    }
    return new ManifestFile(
      runDir,
      {
        ...previous,
        evalrig_version: evalrigVersion(),
        host: currentHost(),
        server: serverOf(init),
        phases: {},
        teardown: null,
        attempts: [...(previous.attempts ?? []), attemptOf(init)],
      },
      true,
    );
  }

  /** 1 for a new run, one more per resume. */
  get attemptNumber(): number {
    return this.data.attempts.length;
  }

  private get attempt(): ManifestAttempt {
    const latest = this.data.attempts.at(-1);
    if (!latest) throw new Error('manifest without an attempt');
    return latest;
  }

  /** Ends the hold of a resumed run's manifest: from now on it is written as the run goes. */
  accept(): void {
    if (!this.held) return;
    this.held = false;
    this.write();
  }

  /** Apply a change and write the file at once, so a crash leaves the manifest as far as the run got. */
  update(change: (manifest: Manifest) => void): void {
    change(this.data);
    this.write();
  }

  /** Run `work` as a named phase, recording its start and duration whatever the outcome. */
  async phase<T>(name: string, work: () => Promise<T>): Promise<T> {
    const start = Date.now();
    try {
      return await work();
    } finally {
      const timing = { started_at: new Date(start).toISOString(), duration_ms: Date.now() - start };
      this.update((m) => {
        m.phases[name] = timing;
        this.attempt.phases[name] = timing;
      });
    }
  }

  /** The server this attempt started. */
  recordServer(server: Pick<ServerHandle, 'displayArgv' | 'baseUrl' | 'pid' | 'containerId'>): void {
    this.update((m) => {
      m.server.argv = server.displayArgv;
      m.server.base_url = server.baseUrl;
      m.server.pid = server.pid ?? null;
      m.server.container_id = server.containerId ?? null;
      this.attempt.server_pid = m.server.pid;
      this.attempt.container_id = m.server.container_id;
    });
  }

  /** How this attempt ended. */
  finish(outcome: {
    status: RunStatus;
    exit_code: number;
    finished_at: string;
    teardown: StopReport | null;
  }): void {
    this.update((m) => {
      m.teardown = outcome.teardown;
      Object.assign(this.attempt, outcome);
    });
  }

  private write(): void {
    if (this.held) return;
    writeJsonAtomic(join(this.runDir, MANIFEST_FILE), this.data);
  }
}
