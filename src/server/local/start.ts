import { hostname } from 'node:os';
import { execa } from 'execa';
import { guardUntilStopped } from '../leftovers/exit-guard.js';
import { resolveExecutable } from '../../util/executable.js';
import { clientUrl } from '../../util/ports.js';
import type { ServerSpec } from '../../plan/schema.js';
import { LogSink } from '../log-sink.js';
import { localHostNeeds } from './host-needs.js';
import { registerLocalServer } from './records.js';
import { groupAlive, signalGroup, terminateGroup } from '../process-group.js';
import {
  LAUNCHED_SERVER_HINTS,
  type ExitInfo,
  type ServerHandle,
  type StartContext,
  type StopOptions,
  type StopReport,
} from '../runtime.js';
import { buildServeArgv, buildServerEnv } from '../../vllm/argv.js';
import { maskSecretFlags } from '../../plan/secrets.js';

/** The GPUs the server sees, as its CUDA_VISIBLE_DEVICES says; null: all of them. */
function gpuSelection(server: ServerSpec): string | null {
  const { gpus } = localHostNeeds(server, process.env);
  return 'selection' in gpus ? gpus.selection : null;
}

/** How long the last output may trail the parent's exit (it can still be in the pipes). */
const OUTPUT_DRAIN_MS = 500;

/**
 * Resolves when `work` settles or `ms` passed, whichever is first. The timer is cleared once `work` wins: a timer
 * left pending would hold evalrig's exit back by up to `ms` after a teardown that is long over.
 */
async function atMost(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([work, timeUp]).finally(() => clearTimeout(timer));
}

/** Resolves when every stream has ended, or after `ms` (a surviving child can hold a pipe open forever). */
function drained(streams: (NodeJS.ReadableStream | null)[], ms: number): Promise<void> {
  const ends = streams.map((stream) =>
    stream
      ? new Promise<void>((resolve) => (stream.readable ? stream.once('end', () => resolve()) : resolve()))
      : Promise.resolve(),
  );
  return atMost(Promise.all(ends), ms);
}

/**
 * Starts `vllm serve` as a local process in its own process group, so that stopping it reaches EngineCore and
 * the workers too (vLLM's children hold the GPU memory; signalling only the parent would orphan them).
 */
export async function startLocalServer(
  server: ServerSpec,
  port: number,
  ctx: StartContext,
): Promise<ServerHandle> {
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

  // 'exit' and not 'close': the EngineCore child inherits the pipes and may outlive the parent. But the parent's
  // last lines (the fatal error) may still be in the pipes at 'exit': give them a moment to arrive.
  const leaderExited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const exited = new Promise<ExitInfo>((resolveExit) => {
    child.once('exit', (code, signal) => {
      void drained([child.stdout, child.stderr], OUTPUT_DRAIN_MS).then(() => {
        sink.flush();
        resolveExit({ code, signal });
      });
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
      sink.flush();
      resolveExit({ code: 127, signal: null });
    });
  });
  await new Promise<void>((ready) => {
    child.once('spawn', () => ready());
    child.once('error', () => ready());
  });
  const pgid = child.pid;

  // Last resort if evalrig itself dies without its teardown: the group is detached, so nothing else would stop
  // it. 'exit' handlers must be synchronous, hence SIGKILL.
  const unguard = guardUntilStopped(() => {
    if (pgid !== undefined) signalGroup(pgid, 'SIGKILL');
  });
  // And where no handler can run (evalrig SIGKILLed), a record lets `evalrig cleanup` find the group later.
  const forget =
    pgid === undefined
      ? () => undefined
      : registerLocalServer({
          pgid,
          owner_pid: process.pid,
          host: hostname(),
          started_at: new Date().toISOString(),
          run_dir: ctx.runDir,
          command: [executable, ...maskSecretFlags(argv)].join(' '),
          gpus: gpuSelection(server),
        });

  let stopping: Promise<StopReport> | undefined;
  let skipWait: (() => void) | undefined;
  const skipped = new Promise<void>((r) => (skipWait = r));

  async function stopGroup(options: StopOptions): Promise<StopReport> {
    const started = Date.now();
    if (pgid === undefined || !groupAlive(pgid)) {
      return { outcome: 'graceful', duration_ms: 0, verified: true, detail: 'the server had already exited' };
    }
    const { gone, outcome, killWaitMs } = await terminateGroup(
      pgid,
      options.immediate ? 0 : options.graceMs,
      {
        interrupt: skipped,
        leaderExited,
      },
    );
    const duration = Date.now() - started;
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const detail = gone
      ? outcome === 'graceful'
        ? `process group ${pgid} exited after SIGTERM in ${seconds(duration)}`
        : `process group ${pgid} did not exit within ${options.immediate ? 0 : options.graceMs / 1000} s of SIGTERM; killed with SIGKILL, gone ${seconds(killWaitMs)} later`
      : `process group ${pgid} still has processes ${seconds(killWaitMs)} after SIGKILL (a process stuck in the GPU driver?): check with ps -g ${pgid} and nvidia-smi`;
    return { outcome, duration_ms: duration, verified: gone, detail };
  }

  async function stop(options: StopOptions): Promise<StopReport> {
    if (options.immediate) skipWait?.();
    stopping ??= (async () => {
      let report: StopReport;
      try {
        report = await stopGroup(options);
      } catch (error) {
        report = {
          outcome: 'killed',
          duration_ms: 0,
          verified: false,
          detail: `stopping failed: ${(error as Error).message}`,
        };
      }
      // A process that survived SIGKILL (D state) may never exit: wait for the parent only briefly.
      await atMost(Promise.race([exited, spawnFailed]), OUTPUT_DRAIN_MS);
      // Pipes held by a survivor must not keep evalrig's event loop alive.
      child.stdout?.destroy();
      child.stderr?.destroy();
      child.unref();
      await sink.close();
      // A full disk stopped server.log mid-run: the teardown report is where the user will look.
      if (sink.writeError)
        report = {
          ...report,
          detail: `${report.detail}; server.log is incomplete: ${sink.writeError.message}`,
        };
      if (report.verified) {
        unguard();
        forget();
      }
      return report;
    })();
    return stopping;
  }

  return {
    runtime: 'local',
    launched: true,
    hints: LAUNCHED_SERVER_HINTS,
    pid: pgid,
    baseUrl: clientUrl(server.host, port),
    apiKey: server.api_key,
    servedModel: server.served_model_name ?? model,
    displayArgv: [executable, ...maskSecretFlags(argv)],
    exited: Promise.race([exited, spawnFailed]),
    logTail: (lines) => sink.lines(lines),
    onLogLine: (listener) => sink.onLine(listener),
    stop,
  };
}
