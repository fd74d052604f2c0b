import type { ServerSpec } from '../plan/schema.js';
import type { HostNeeds } from '../util/host-needs.js';
import type { Version } from '../util/pep440.js';
import type { VllmDetection } from '../vllm/detect.js';

/**
 * The seam every way of serving a model goes through: the orchestrator, the dry run, the preflight and readiness
 * ask the plan's runtime instead of branching on its name. A new runtime is one folder under src/server/, one line
 * in registry.ts and its keys in the plan schema.
 */
export interface ServerRuntime {
  name: ServerSpec['runtime'];
  /** False for an endpoint someone else runs: evalrig neither renders flags for it, nor starts, nor stops it. */
  launches: boolean;
  /** The vLLM version before anything starts, found this runtime's way (asked, read from an image tag, unknown). */
  findVersion(server: ServerSpec, ctx: RuntimeContext): Promise<VersionFinding>;
  /** `plan --dry-run`: what would start, secrets masked, one line each. Starts and contacts nothing. */
  describe(serve: ServePlan, ctx: RuntimeContext): string[];
  /**
   * Where vLLM listens when the runtime cannot follow the plan's server.host, and why; absent when it follows it.
   * Said before the start when the address is reachable from other machines.
   */
  listensOn?(server: ServerSpec): { host: string; why: string };
  /** What the preflight must find on this host for this runtime. */
  hostNeeds(server: ServerSpec, env: Readonly<Record<string, string | undefined>>): HostNeeds;
  /** Starts the server (or attaches to it); the handle's `stop` is always called, on every path. */
  start(serve: ServePlan, ctx: StartContext): Promise<ServerHandle>;
  /** Loads the modules `start` needs ahead of it, while the host is probed; `start` loads them itself otherwise. */
  preload?(): Promise<void>;
  /** What dead evalrig runs of this runtime may have left running; absent when it starts nothing. */
  leftovers?: LeftoverSource;
}

export interface RuntimeContext {
  /** Folder of the plan file: relative paths in the plan resolve against it. */
  planDir: string;
  planName: string;
  /** The command's interruption: a version probe in flight is killed. */
  signal?: AbortSignal;
}

export interface VersionFinding {
  version: Version | null;
  /** Where the version came from, or why there is none, in words. */
  source: string;
  /** The whole detection when a process was asked, so the preflight need not ask again. */
  detection?: VllmDetection;
}

/** What will be started, decided before anything starts: shown by --dry-run, used by the run. */
export interface ServePlan {
  /** The server spec with extra_args rendered for the detected vLLM version. */
  server: ServerSpec;
  reasoningFlags: string[];
  version: Version | null;
  versionSource: string;
  detection?: VllmDetection;
  /** What was changed or assumed for that version, one sentence each. */
  notices: string[];
  /** Secrets made for this run (the generated API key): masked wherever the plan's are. */
  secrets: string[];
}

/** Something a dead evalrig left running, as one runtime found it. */
export interface Leftover {
  /** Short and unique, e.g. `process group 4242` or a container name. */
  name: string;
  /** The command or image, the run and when it started. */
  detail: string;
  /** `orphan`: its evalrig is gone, nothing else will stop it; `owned`: a live run's; `foreign`: not ours to judge. */
  verdict: 'orphan' | 'owned' | 'foreign';
  reason: string;
  /** The GPUs it uses, CUDA_VISIBLE_DEVICES style (null: all of them); absent when unknown. */
  gpus?: string | null;
  /** SIGTERM (or docker stop), the grace, SIGKILL; verified. */
  stop(graceMs: number): Promise<{ stopped: boolean; detail: string }>;
}

export interface LeftoverSource {
  /** What is searched, for messages: "local vLLM process groups", "vLLM containers on unix:///…". */
  label: string;
  /** False when there is nothing to search (no Docker engine configured): not an error. */
  available(): boolean;
  /** Throws, with what to do, when the place cannot be searched (an engine that does not answer). */
  find(): Promise<Leftover[]>;
}

/** How a server ended, as far as the runtime can tell. */
export interface ExitInfo {
  /** Exit code, or null when a signal ended it. */
  code: number | null;
  signal: string | null;
  /** Docker: the kernel OOM killer ended the container. */
  oomKilled?: boolean;
  /** The runtime's own account of the end when it knows more than a code (a scheduler's state, what to do). */
  description?: string;
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
  runtime: ServerSpec['runtime'];
  /** True when evalrig started this server (and so reads its log and stops it); false for an external endpoint. */
  launched: boolean;
  /** Words for readiness failures, from the runtime that knows who runs the server. */
  hints: ReadinessHints;
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

/** What to tell the user when the server is not ready, per runtime. */
export interface ReadinessHints {
  /** The fix when /health did not answer 200 within the start-up time. */
  notReady: string;
  /** Whose key `server.api_key` must match when /v1/models answers 401. */
  keyOwner: string;
  /** The fix when /v1/models does not list the model to evaluate. */
  modelMissing: string;
}

/** For a server evalrig started itself, as a local process or in a container. */
export const LAUNCHED_SERVER_HINTS: ReadinessHints = {
  notReady: 'raise server.startup_timeout for big models or a cold compile cache; check server.log.',
  keyOwner: 'the server was started with',
  modelMissing: 'Another server holds this port: stop it or use server.port: auto.',
};

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
  /** Notes for the user during the start (an unpinned image tag). */
  warn?: (message: string) => void;
  /** For labels and records: the plan's name. */
  planName?: string;
}
