/** How a server ended, as far as the runtime can tell. */
export interface ExitInfo {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: string | null;
  /** Docker: the kernel OOM killer ended the container. */
  oomKilled?: boolean;
}

/** What `stop()` did and how long it took, for the manifest and the console. */
export interface StopReport {
  /** `none` for an external endpoint, `graceful` when SIGTERM sufficed, `killed` when SIGKILL was needed. */
  outcome: 'none' | 'graceful' | 'killed';
  duration_ms: number;
  /** True when nothing of the server is left (no process of the group / no container). */
  verified: boolean;
  detail: string;
}

export interface StopOptions {
  /** How long to wait after SIGTERM before SIGKILL. */
  graceMs: number;
  /** Skip the wait: a second Ctrl-C. */
  immediate?: boolean;
}

/** A started (or reused) vLLM server. Every runtime returns one. */
export interface ServerHandle {
  runtime: 'local' | 'docker' | 'external';
  /** Root URL without `/v1`, e.g. http://127.0.0.1:8000 */
  baseUrl: string;
  apiKey?: string;
  servedModel: string;
  /** Local runtime: the server's pid, which is also its process group id. */
  pid?: number;
  /** Docker runtime: the container id. */
  containerId?: string;
  /** The command that started the server, secrets masked. Empty for external. */
  displayArgv: string[];
  /** Resolves when the server process/container ends; never resolves for an external endpoint. */
  exited: Promise<ExitInfo>;
  /** The last lines the server printed (stdout and stderr interleaved), oldest first. */
  logTail(lines?: number): string[];
  /** Called for every server log line from now on; returns an unsubscribe function. */
  onLogLine(listener: (line: string) => void): () => void;
  /**
   * Idempotent; always resolves, never rejects: teardown must not throw over other errors.
   * A second call with `immediate: true` while a stop is waiting skips the rest of the wait (a second Ctrl-C)
   * and resolves with the same report as the first call.
   */
  stop(options: StopOptions): Promise<StopReport>;
}

/** Where and under which identity a runtime starts its server. */
export interface StartContext {
  runId: string;
  runDir: string;
  /** server.log in the run directory. */
  logFile: string;
  /** Folder of the plan file: relative paths in the plan resolve against it. */
  planDir: string;
  /** Reasoning flags rendered for the detected vLLM version, passed through to the argv builder. */
  reasoningFlags?: string[];
  /** Replaces secrets in every log line before it is written or shown. */
  maskLine: (line: string) => string;
  /** The run's interruption: a start that takes long (an image pull) stops early and leaves nothing behind. */
  signal?: AbortSignal;
}
