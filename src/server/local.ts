import { isAbsolute, resolve } from 'node:path';
import { execa } from 'execa';
import type { ServerSpec } from '../plan/schema.js';
import { LogSink } from './log-sink.js';
import { groupAlive, signalGroup, waitGroupGone } from './process-group.js';
import type { ExitInfo, ServerHandle, StartContext, StopOptions, StopReport } from './runtime.js';
import { buildServeArgv, buildServerEnv, maskArgv } from './vllm-args.js';

/** A command name is looked up on PATH; anything with a slash is a path relative to the plan file. */
export function resolveExecutable(executable: string, planDir: string): string {
  return executable.includes('/') && !isAbsolute(executable) ? resolve(planDir, executable) : executable;
}

/** The URL a client on this host uses: a wildcard bind address is reached through loopback. */
export function clientUrl(bindHost: string, port: number): string {
  const host = bindHost === '0.0.0.0' ? '127.0.0.1' : bindHost === '::' ? '::1' : bindHost;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** How long SIGKILL may take to empty the group before we call the stop unverified. */
const KILL_WAIT_MS = 5_000;

/**
 * Starts `vllm serve` as a local process in its own process group, so that stopping it reaches EngineCore and
 * the workers too (vLLM's children hold the GPU memory; signalling only the parent would orphan them).
 */
export async function startLocalServer(server: ServerSpec, port: number, ctx: StartContext): Promise<ServerHandle> {
  const model = server.model;
  if (!model) throw new Error('runtime local needs server.model');
  const argv = buildServeArgv(server, { port, host: server.host, model, reasoningFlags: ctx.reasoningFlags });
  const executable = resolveExecutable(server.executable, ctx.planDir);
  const sink = new LogSink(ctx.logFile, 400, ctx.maskLine);

  const child = execa(executable, argv, {
    detached: true,
    env: { ...buildServerEnv(server), PYTHONUNBUFFERED: '1' },
    extendEnv: true,
    stdin: 'ignore',
    buffer: false,
    reject: false,
    // Our own teardown signals the whole group; execa's would only reach the parent.
    cleanup: false,
    cwd: ctx.planDir,
  });
  child.stdout?.on('data', (chunk: Buffer) => sink.write(chunk, 'stdout'));
  child.stderr?.on('data', (chunk: Buffer) => sink.write(chunk, 'stderr'));

  // 'exit' and not 'close': the EngineCore child inherits the pipes and may outlive the parent.
  const exited = new Promise<ExitInfo>((resolveExit) => {
    child.once('exit', (code, signal) => {
      sink.flush();
      resolveExit({ code, signal });
    });
  });
  // A missing executable shows up as an 'error' event (ENOENT) with no 'exit'.
  const spawnFailed = new Promise<ExitInfo>((resolveExit) => {
    child.once('error', (error: NodeJS.ErrnoException) => {
      const hint =
        error.code === 'ENOENT'
          ? `${executable}: command not found. Install vLLM (pip install vllm), activate its environment, or set server.executable.`
          : `${executable}: ${error.message}`;
      sink.write(`evalrig: ${hint}\n`, 'evalrig');
      resolveExit({ code: 127, signal: null });
    });
  });
  await new Promise<void>((ready) => {
    child.once('spawn', () => ready());
    child.once('error', () => ready());
  });
  const pgid = child.pid;

  let stopping: Promise<StopReport> | undefined;
  let skipWait: (() => void) | undefined;
  const skipped = new Promise<void>((r) => (skipWait = r));

  async function stop(options: StopOptions): Promise<StopReport> {
    if (options.immediate) skipWait?.();
    stopping ??= (async () => {
      const started = Date.now();
      if (pgid === undefined || !groupAlive(pgid)) {
        await sink.close();
        return { outcome: 'graceful', duration_ms: 0, verified: true, detail: 'the server had already exited' };
      }
      let outcome: StopReport['outcome'] = 'graceful';
      signalGroup(pgid, 'SIGTERM');
      let gone = options.immediate ? false : await waitGroupGone(pgid, options.graceMs, skipped);
      if (!gone) {
        outcome = 'killed';
        signalGroup(pgid, 'SIGKILL');
        gone = await waitGroupGone(pgid, KILL_WAIT_MS);
      }
      await Promise.race([exited, spawnFailed]);
      await sink.close();
      const duration = Date.now() - started;
      const detail = gone
        ? outcome === 'graceful'
          ? `process group ${pgid} exited after SIGTERM in ${(duration / 1000).toFixed(1)} s`
          : `process group ${pgid} did not exit within ${options.immediate ? 0 : options.graceMs / 1000} s of SIGTERM; killed with SIGKILL`
        : `process group ${pgid} still has processes after SIGKILL: check with ps -g ${pgid}`;
      return { outcome, duration_ms: duration, verified: gone, detail };
    })();
    return stopping;
  }

  return {
    runtime: 'local',
    pid: pgid,
    baseUrl: clientUrl(server.host, port),
    apiKey: server.api_key,
    servedModel: server.served_model_name ?? model,
    displayArgv: [executable, ...maskArgv(argv)],
    exited: Promise.race([exited, spawnFailed]),
    logTail: (lines) => sink.lines(lines),
    onLogLine: (listener) => sink.onLine(listener),
    stop,
  };
}
