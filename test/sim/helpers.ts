import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Helpers to run the built vLLM simulator (`npm run build` first) as a real process group.
// Any suite may use them; call killAllSims() in afterEach/afterAll so nothing outlives a test.

export const SIM_MAIN = fileURLToPath(new URL('../../dist/sim/src/main.js', import.meta.url));
export const SIM_BIN_DIR = fileURLToPath(new URL('../../sim/bin', import.meta.url));
export const DEFAULT_MODEL = '/models/Qwen3-8B';

/** Fast defaults for tests: short load, no artificial latency. */
export const FAST_ENV: Readonly<Record<string, string>> = {
  VLLM_SIM_LOAD_TIME: '0.3',
  VLLM_SIM_TTFT_MS: '0',
  VLLM_SIM_TOKEN_LATENCY_MS: '0',
};

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SimHandle {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly port: number;
  readonly baseUrl: string;
  /** stdout and stderr interleaved as received (in write order with `logFile`). */
  output(): string;
  stdout(): string;
  stderr(): string;
  readonly exited: Promise<Exit>;
  /** Resolves once every process holding the output pipes has gone (all output read). */
  readonly drained: Promise<void>;
  /** Polls GET /health until 200; fails early if the process exits. */
  waitReady(timeoutMs?: number): Promise<void>;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Signals the whole process group (server, EngineCore, workers). */
  killGroup(signal?: NodeJS.Signals): void;
  /** Pids still in the process group (zombies excluded). */
  groupPids(): number[];
}

export interface SimOptions {
  /** Arguments after `serve MODEL --host 127.0.0.1 --port PORT`. */
  readonly args?: readonly string[];
  /** Replaces the whole argument list (the caller includes the port). */
  readonly argv?: readonly string[];
  readonly model?: string;
  readonly port?: number;
  /** Added to FAST_ENV (unless `fast: false`) and a clean copy of process.env. */
  readonly env?: Readonly<Record<string, string>>;
  readonly fast?: boolean;
  /**
   * Send stdout and stderr of every process to this one file, as a shell's `>log 2>&1` would, so
   * output() keeps the exact write order across streams (two pipes may be read out of order).
   * stdout() and stderr() then both return the whole log.
   */
  readonly logFile?: string;
}

const live = new Set<SimHandle>();

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Whether a TCP connection to the port succeeds right now. */
export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function tempDir(prefix = 'vllm-sim-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('VLLM_')) env[k] = v;
  }
  return env;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Pids in a process group that are not zombies. */
export function pidsInGroup(pgid: number): number[] {
  let text = '';
  try {
    text = execFileSync('ps', ['-o', 'pid=,stat=', '-g', String(pgid)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when nothing matches
  }
  return text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid, stat]) => pid && stat && !stat.startsWith('Z'))
    .map(([pid]) => Number(pid));
}

/** `ps` args of a pid, e.g. `VLLM::EngineCore`. */
export function processTitle(pid: number): string {
  try {
    return execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
}

export async function startSim(options: SimOptions = {}): Promise<SimHandle> {
  const port = options.port ?? (await freePort());
  const argv = options.argv ?? [
    'serve',
    options.model ?? DEFAULT_MODEL,
    '--host',
    '127.0.0.1',
    '--port',
    String(port),
    ...(options.args ?? []),
  ];
  const logFd = options.logFile === undefined ? null : openSync(options.logFile, 'a');
  const child = spawn(process.execPath, [SIM_MAIN, ...argv], {
    detached: true, // its own process group, so the group can be signalled and cleaned up
    stdio: ['ignore', logFd ?? 'pipe', logFd ?? 'pipe'],
    env: { ...cleanEnv(), ...(options.fast === false ? {} : FAST_ENV), ...options.env },
  });
  if (logFd !== null) closeSync(logFd);
  if (child.pid === undefined) throw new Error('the simulator did not start');
  const pid = child.pid;
  let all = '';
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    all += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
    all += d.toString();
  });
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const drained = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let hasExited = false;
  void exited.then(() => (hasExited = true));
  const baseUrl = `http://127.0.0.1:${port}`;

  const until = async (
    test: () => Promise<boolean> | boolean,
    timeoutMs: number,
    what: string,
  ): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await test()) return;
      if (hasExited) throw new Error(`simulator exited while waiting for ${what}:\n${log()}`);
      await sleep(25);
    }
    throw new Error(`timed out waiting for ${what}:\n${log()}`);
  };

  const log = (): string => (options.logFile === undefined ? all : readFileSync(options.logFile, 'utf8'));
  const handle: SimHandle = {
    child,
    pid,
    port,
    baseUrl,
    output: log,
    stdout: () => (options.logFile === undefined ? out : log()),
    stderr: () => (options.logFile === undefined ? err : log()),
    exited,
    drained,
    waitReady: (timeoutMs = 15_000) =>
      until(
        async () => {
          try {
            return (await fetch(`${baseUrl}/health`)).status === 200;
          } catch {
            return false;
          }
        },
        timeoutMs,
        '/health 200',
      ),
    waitForOutput: (pattern, timeoutMs = 15_000) =>
      until(() => pattern.test(all), timeoutMs, String(pattern)),
    killGroup: (signal = 'SIGKILL') => {
      try {
        process.kill(-pid, signal);
      } catch {
        // the group is already gone
      }
    },
    groupPids: () => pidsInGroup(pid),
  };
  live.add(handle);
  return handle;
}

/** Starts a simulator and waits until it serves /health. */
export async function startReadySim(options: SimOptions = {}): Promise<SimHandle> {
  const sim = await startSim(options);
  await sim.waitReady();
  return sim;
}

/** SIGKILLs every simulator group started so far and waits until their processes are gone. */
export async function killAllSims(): Promise<void> {
  const handles = [...live];
  live.clear();
  for (const h of handles) h.killGroup('SIGKILL');
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline && handles.some((h) => pidAlive(h.pid) || h.groupPids().length > 0))
    await sleep(20);
}

export interface RunResult extends Exit {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the simulator to completion (CLI checks: --version, argument errors, load crashes). */
export async function runSim(
  argv: readonly string[],
  env: Readonly<Record<string, string>> = {},
  timeoutMs = 15_000,
): Promise<RunResult> {
  const sim = await startSim({ argv, env });
  const timer = setTimeout(() => sim.killGroup('SIGKILL'), timeoutMs);
  const exit = await sim.exited;
  await Promise.race([sim.drained, sleep(3000)]);
  clearTimeout(timer);
  return { ...exit, stdout: sim.stdout(), stderr: sim.stderr() };
}
