import { hostname, platform, release } from 'node:os';
import { join } from 'node:path';
import type { DatasetProvenance } from '../datasets/types.js';
import type { StopReport } from '../server/runtime.js';
import { evalrigVersion } from '../util/evalrig-version.js';
import type { ServePlan } from '../server/runtime.js';
import { writeJsonAtomic } from '../util/atomic-write.js';

/** manifest.json: what ran, where, with which versions and how long each phase took. Rewritten as the run goes. */
export interface Manifest {
  evalrig_version: string;
  run_id: string;
  plan_file: string;
  host: { hostname: string; platform: string; node: string; pid: number };
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
  datasets: DatasetProvenance[];
  /** Phase name → start time and duration in milliseconds. */
  phases: Record<string, { started_at: string; duration_ms: number }>;
  teardown: StopReport | null;
}

export class ManifestFile {
  readonly data: Manifest;

  constructor(
    private readonly runDir: string,
    init: { runId: string; planFile: string; runtime: string; serve: ServePlan; startedAt: Date },
  ) {
    this.data = {
      evalrig_version: evalrigVersion(),
      run_id: init.runId,
      plan_file: init.planFile,
      host: {
        hostname: hostname(),
        platform: `${platform()} ${release()}`,
        node: process.version,
        pid: process.pid,
      },
      started_at: init.startedAt.toISOString(),
      server: {
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
      },
      datasets: [],
      phases: {},
      teardown: null,
    };
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
      this.update(
        (m) =>
          (m.phases[name] = { started_at: new Date(start).toISOString(), duration_ms: Date.now() - start }),
      );
    }
  }

  private write(): void {
    writeJsonAtomic(join(this.runDir, 'manifest.json'), this.data);
  }
}
