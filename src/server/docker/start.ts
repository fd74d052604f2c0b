import { ExitCode, UserError } from '../../errors.js';
import { existsSync } from 'node:fs';
import { constants, homedir, hostname } from 'node:os';
import { basename, dirname } from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import type { DockerSpec } from '../../plan/docker-schema.js';
import type { ServerSpec } from '../../plan/schema.js';
import { connectDocker, dockerErrorMessage, dockerStatus, removeContainerSync } from './client.js';
import { engineAddress } from './engine.js';
import { guardUntilStopped } from '../leftovers/exit-guard.js';
import { ensureImage } from './image.js';
import { publishAddress, requireDockerSpec } from './describe.js';
import {
  buildContainerCreateOptions,
  dockerRunArgv,
  planDockerMounts,
  type ContainerInput,
} from './options.js';
import { clientUrl } from '../../util/ports.js';
import { LogSink } from '../log-sink.js';
import { findFreePort } from '../../util/ports.js';
import { delay } from '../../util/delay.js';
import {
  LAUNCHED_SERVER_HINTS,
  type ExitInfo,
  type ServerHandle,
  type StartContext,
  type StopOptions,
  type StopReport,
} from '../runtime.js';

export interface DockerStartOptions {
  /** The engine to use; default `new Docker()`, which honours DOCKER_HOST. */
  client?: Docker;
  /** For the `evalrig.plan` label; default: the plan folder of the run directory (<dir>/<plan>/<timestamp>). */
  planName?: string;
  /** Pull progress (a bar when it is a terminal); default stderr. */
  progressOutput?: NodeJS.WriteStream;
  /** Notes for the user, e.g. an unpinned image tag; default: printed to stderr. */
  warn?: (message: string) => void;
}

/** A ServerHandle that also names its container, for messages and tests. */
export interface DockerServerHandle extends ServerHandle {
  runtime: 'docker';
  containerId: string;
  containerName: string;
}

/** How long to wait for the log stream to drain after the container ended, so the tail holds the last lines. */
const LOG_DRAIN_MS = 3_000;
/** How long removal may take to show in inspect (the engine removes asynchronously after a 409 "in progress"). */
const REMOVAL_VERIFY_MS = 10_000;
/** `port: auto` picks a free port, which another process may take before the container binds it: retry. */
const PORT_ATTEMPTS = 3;

/**
 * Docker reports a process ended by signal N as status 128+N; the ExitInfo contract says code null and the signal
 * name then, as the local runtime does.
 */
export function exitInfoFromStatus(statusCode: number, oomKilled?: boolean): ExitInfo {
  const oom = oomKilled === undefined ? {} : { oomKilled };
  const signal = Object.entries(constants.signals).find(([, number]) => number === statusCode - 128)?.[0];
  if (statusCode > 128 && signal) return { code: null, signal, ...oom };
  return { code: statusCode, signal: null, ...oom };
}

function isPortInUse(message: string): boolean {
  return /port is already allocated|address already in use/i.test(message);
}

/** A start/create failure in words a person can act on. */
function containerFailureMessage(action: string, image: string, error: unknown): string {
  const message = dockerErrorMessage(error);
  const lines = [`evalrig: could not ${action} the vLLM container (${image}): ${message}`];
  if (/could not select device driver|nvidia/i.test(message)) {
    lines.push(
      '  The engine cannot give GPUs to containers: install the NVIDIA Container Toolkit and restart Docker,',
      '  or set `docker.gpus: none` for an image that needs no GPU (the simulator).',
    );
  } else if (/bind source path does not exist/i.test(message)) {
    lines.push('  A folder to mount is missing on this host: check server.model and docker.volumes.');
  } else if (isPortInUse(message)) {
    lines.push('  The port is taken: choose another server.port, or `port: auto`.');
  } else if (dockerStatus(error) === 409) {
    lines.push('  A container of that name exists: remove leftovers with `evalrig cleanup --yes`.');
  }
  return lines.join('\n');
}

async function removeQuietly(container: Docker.Container): Promise<void> {
  await container.remove({ v: true, force: true }).catch(() => undefined);
}

interface LogStream {
  /** Resolves when the stream ended (the container stopped) and the sink holds every line. */
  ended: Promise<void>;
  /** Stops feeding the sink, so nothing is written after it is closed. */
  detach(): void;
}

/** Streams the container's stdout and stderr, demultiplexed, into the sink. */
async function streamLogs(client: Docker, container: Docker.Container, sink: LogSink): Promise<LogStream> {
  const stream = (await container.logs({
    follow: true,
    stdout: true,
    stderr: true,
  })) as NodeJS.ReadableStream & {
    destroy(): void;
  };
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  stdout.on('data', (chunk: Buffer) => sink.write(chunk, 'stdout'));
  stderr.on('data', (chunk: Buffer) => sink.write(chunk, 'stderr'));
  // The end listeners go on before anyone can stop the container: a stream that ends unobserved hangs the wait.
  const ended = new Promise<void>((resolve) => {
    stream.once('end', () => resolve());
    stream.once('close', () => resolve());
    stream.once('error', () => resolve());
  }).then(() => sink.flush());
  client.modem.demuxStream(stream, stdout, stderr);
  return {
    ended,
    detach() {
      stdout.removeAllListeners('data');
      stderr.removeAllListeners('data');
      stream.destroy();
    },
  };
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    timer.unref();
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
    );
  });
}

/** Polls inspect until the engine answers 404 for the container. */
async function verifyRemoved(container: Docker.Container): Promise<boolean> {
  const deadline = Date.now() + REMOVAL_VERIFY_MS;
  for (;;) {
    try {
      await container.inspect();
    } catch (error) {
      if (dockerStatus(error) === 404) return true;
    }
    if (Date.now() >= deadline) return false;
    await delay(200);
  }
}

/**
 * Starts vLLM in a container: the image is made available first (a pull failure stops here, before anything
 * runs), then the container is created with evalrig's labels, started, and its logs streamed into server.log.
 * The returned handle's `stop` stops and removes the container and verifies it is gone; the caller always calls it.
 */
export async function startDockerServer(
  server: ServerSpec,
  ctx: StartContext,
  options: DockerStartOptions = {},
): Promise<DockerServerHandle> {
  const docker = requireDockerSpec(server);
  const warn = options.warn ?? ((message: string) => process.stderr.write(`${message}\n`));
  const client = await connectDocker(options.client);
  await ensureImage(client, docker, {
    output: options.progressOutput ?? process.stderr,
    warn,
    signal: ctx.signal,
  });

  const { mounts, modelInContainer } = planDockerMounts(server, docker, {
    planDir: ctx.planDir,
    homeDir: homedir(),
    pathExists: existsSync,
  });
  const hostIp = publishAddress(server.host);
  const input: ContainerInput = {
    runId: ctx.runId,
    planName: options.planName ?? basename(dirname(ctx.runDir)),
    ownerPid: process.pid,
    ownerHost: hostname(),
    hostIp,
    reasoningFlags: ctx.reasoningFlags,
    modelInContainer,
    mounts,
  };

  const { container, create, hostPort } = await createAndStart(client, server, docker, input);
  if (ctx.signal?.aborted) {
    // Interrupted while the container was being created: nobody will hold a handle to stop it.
    await removeQuietly(container);
    throw ctx.signal.reason;
  }

  // ctx.maskLine knows every secret of the plan, docker.env's included (plan/secrets.ts).
  const sink = new LogSink(ctx.logFile, 400, ctx.maskLine);
  let logs: LogStream;
  try {
    logs = await streamLogs(client, container, sink);
  } catch (error) {
    await removeQuietly(container);
    await sink.close();
    throw new UserError(
      containerFailureMessage('follow the logs of', docker.image, error),
      ExitCode.runFailed,
    );
  }
  const exited = watchExit(container, logs.ended);
  const stop = stopOnce(container, exited, logs, sink);
  // Last resort if evalrig exits without its teardown; where not even this runs, the labels let cleanup find it.
  const unguard = guardUntilStopped(() => removeContainerSync(container.id));

  return {
    runtime: 'docker',
    launched: true,
    hints: LAUNCHED_SERVER_HINTS,
    containerId: container.id,
    containerName: create.name ?? container.id,
    baseUrl: clientUrl(hostIp, hostPort),
    ...(server.api_key === undefined ? {} : { apiKey: server.api_key }),
    servedModel: server.served_model_name ?? modelInContainer,
    displayArgv: dockerRunArgv(create),
    exited,
    logTail: (lines) => sink.lines(lines),
    onLogLine: (listener) => sink.onLine(listener),
    stop: (options) =>
      stop(options).then((report) => {
        if (report.verified) unguard();
        return report;
      }),
  };
}

/**
 * `stop` for the handle: the first call stops and removes the container, later calls share its report. An
 * `immediate` call while a graceful stop waits (a second Ctrl-C) kills the container at once; the pending stop
 * then finishes early.
 */
function stopOnce(
  container: Docker.Container,
  exited: Promise<ExitInfo>,
  logs: LogStream,
  sink: LogSink,
): ServerHandle['stop'] {
  let stopping: Promise<StopReport> | undefined;
  let escalated = false;
  return (options) => {
    if (stopping && options.immediate && !escalated) {
      escalated = true;
      void container.kill().catch(() => undefined);
    }
    stopping ??= stopContainer(container, options, { exited, logs, sink, escalated: () => escalated });
    return stopping;
  };
}

/**
 * Creates and starts the container. With `port: auto` a free port is chosen first (a concrete port keeps the
 * base URL known before start); when another process takes it in between, the start fails and is retried.
 */
async function createAndStart(
  client: Docker,
  server: ServerSpec,
  docker: DockerSpec,
  input: ContainerInput,
): Promise<{ container: Docker.Container; create: Docker.ContainerCreateOptions; hostPort: number }> {
  for (let attempt = 1; ; attempt += 1) {
    const hostPort = server.port === 'auto' ? await findFreePort(input.hostIp) : server.port;
    const create = buildContainerCreateOptions(server, docker, { ...input, hostPort });
    let container: Docker.Container;
    try {
      container = await client.createContainer(create);
    } catch (error) {
      throw new UserError(containerFailureMessage('create', docker.image, error), ExitCode.runFailed);
    }
    try {
      await container.start();
      return { container, create, hostPort };
    } catch (error) {
      await removeQuietly(container);
      const retry =
        server.port === 'auto' && attempt < PORT_ATTEMPTS && isPortInUse(dockerErrorMessage(error));
      if (!retry) {
        throw new UserError(containerFailureMessage('start', docker.image, error), ExitCode.runFailed);
      }
    }
  }
}

/** Resolves once the container ended and its last log lines are in: exit code, and whether the OOM killer ended it. */
async function watchExit(container: Docker.Container, logsEnded: Promise<void>): Promise<ExitInfo> {
  let statusCode: number | null = null;
  try {
    const result = (await container.wait()) as { StatusCode: number };
    statusCode = result.StatusCode;
  } catch {
    // The container was removed while waiting (a forced removal): no status to report.
  }
  let oomKilled: boolean | undefined;
  try {
    const state = (await container.inspect()).State;
    oomKilled = state.OOMKilled;
    statusCode ??= state.ExitCode;
  } catch {
    // Already removed: the wait result is all there is.
  }
  await within(logsEnded, LOG_DRAIN_MS);
  if (statusCode === null) {
    return { code: null, signal: null, ...(oomKilled === undefined ? {} : { oomKilled }) };
  }
  return exitInfoFromStatus(statusCode, oomKilled);
}

interface StopState {
  exited: Promise<ExitInfo>;
  logs: LogStream;
  sink: LogSink;
  /** True once a second, immediate stop request killed the container during the graceful wait. */
  escalated: () => boolean;
}

/** docker stop (SIGTERM, then SIGKILL after the grace) or kill, remove with anonymous volumes, verify gone. */
async function stopContainer(
  container: Docker.Container,
  options: StopOptions,
  state: StopState,
): Promise<StopReport> {
  const { exited, logs, sink } = state;
  const started = Date.now();
  const notes: string[] = [];
  let outcome: StopReport['outcome'] = 'graceful';
  try {
    const running = (await container.inspect()).State.Running;
    if (!running) {
      notes.push('the container had already exited');
    } else if (options.immediate) {
      await container.kill();
      outcome = 'killed';
      notes.push('killed without grace');
    } else {
      const graceSeconds = Math.max(0, Math.ceil(options.graceMs / 1000));
      await container.stop({ t: graceSeconds });
      const exitCode = (await container.inspect()).State.ExitCode;
      // 137 = SIGKILL: the server outlived the grace period and Docker killed it.
      if (exitCode === 137) {
        outcome = 'killed';
        notes.push(
          state.escalated()
            ? 'killed on a second stop request'
            : `still running ${graceSeconds} s after SIGTERM, killed`,
        );
      } else {
        notes.push(`stopped by SIGTERM (exit code ${exitCode})`);
      }
    }
  } catch (error) {
    // 304: stopped meanwhile; 404: removed by someone else. Anything else is noted; removal below still runs.
    const status = dockerStatus(error);
    if (status !== 304 && status !== 404) notes.push(`stop failed: ${dockerErrorMessage(error)}`);
  }
  await within(logs.ended, LOG_DRAIN_MS);
  try {
    await container.remove({ v: true, force: true });
  } catch (error) {
    const status = dockerStatus(error);
    // 404: already gone; 409: a removal is in progress. Either way the verification decides.
    if (status !== 404 && status !== 409) notes.push(`remove failed: ${dockerErrorMessage(error)}`);
  }
  const verified = await verifyRemoved(container);
  notes.push(
    verified ? 'container removed' : `container may remain: check \`docker ps -a\` on ${engineAddress()}`,
  );
  await within(exited, LOG_DRAIN_MS);
  logs.detach();
  await sink.close().catch(() => undefined);
  if (sink.writeError) notes.push(`server.log is incomplete: ${sink.writeError.message}`);
  return {
    outcome,
    duration_ms: Date.now() - started,
    verified,
    detail: `${container.id.slice(0, 12)}: ${notes.join('; ')}`,
  };
}
