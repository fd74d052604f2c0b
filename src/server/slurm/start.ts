import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ExitCode, UserError } from '../../errors.js';
import type { ServerSpec } from '../../plan/schema.js';
import { SlurmSpecSchema, type SlurmSpec } from '../../plan/slurm-schema.js';
import { delay } from '../../util/delay.js';
import { resolveExecutable } from '../../util/executable.js';
import { clientUrl } from '../../util/ports.js';
import { buildServerEnv } from '../../vllm/argv.js';
import { guardUntilStopped } from '../leftovers/exit-guard.js';
import { LogSink } from '../log-sink.js';
import type { ExitInfo, ReadinessHints, ServerHandle, StartContext, StopReport } from '../runtime.js';
import { buildSbatchArgs, renderJobScript, type JobInput } from './job-script.js';
import { followJobLog } from './log-follower.js';
import {
  cancelJob,
  cancelJobSync,
  firstNode,
  hasEnded,
  jobExit,
  jobStatus,
  POLL_MS,
  submitJob,
  type JobStatus,
} from './scheduler.js';

/** The job script's name in the run directory. */
export const JOB_SCRIPT = 'slurm-job.sh';

/** `port: auto` on a node evalrig cannot look at: a port from a range few services use, chosen at random. */
export function pickJobPort(random = Math.random): number {
  return 20_000 + Math.floor(random() * 40_000);
}

export function slurmSpec(server: ServerSpec): SlurmSpec {
  return server.slurm ?? SlurmSpecSchema.parse({});
}

export interface JobFiles {
  runId: string;
  runDir: string;
  planDir: string;
  planName: string;
  port: JobInput['port'];
  reasoningFlags?: string[];
}

/** What would be submitted: the job's input, its sbatch argv and its script, from the run's folder. */
export function planJob(
  server: ServerSpec,
  files: JobFiles,
): { input: JobInput; args: string[]; script: string } {
  const slurm = slurmSpec(server);
  const input: JobInput = {
    runId: files.runId,
    planName: files.planName,
    ownerPid: process.pid,
    ownerHost: hostname(),
    port: files.port,
    executable: resolveExecutable(server.executable, files.planDir),
    outputPattern: join(files.runDir, 'slurm-%j.log'),
    workDir: files.runDir,
    ...(files.reasoningFlags === undefined ? {} : { reasoningFlags: files.reasoningFlags }),
  };
  const scriptPath = join(files.runDir, JOB_SCRIPT);
  return {
    input,
    args: buildSbatchArgs(slurm, input, scriptPath),
    script: renderJobScript(server, slurm, input),
  };
}

function slurmHints(jobId: string, node: string, port: number): ReadinessHints {
  return {
    notReady:
      `raise server.startup_timeout for big models or a cold compile cache; check server.log (job ${jobId}'s output), ` +
      `and that this host reaches ${node}:${port} (a firewall between login and compute nodes?).`,
    keyOwner: `job ${jobId} was started with`,
    modelMissing: `Another server holds port ${port} on ${node}: set another server.port.`,
  };
}

function lastLines(path: string, count: number): string[] {
  try {
    return readFileSync(path, 'utf8').trimEnd().split('\n').slice(-count);
  } catch {
    return [];
  }
}

/** Waits until the job runs; the queue's reason is reported each time it changes while the job waits. */
async function waitRunning(
  jobId: string,
  queueTimeoutMs: number,
  ctx: StartContext,
  logPath: string,
): Promise<JobStatus> {
  const deadline = Date.now() + queueTimeoutMs;
  let lastReason = '';
  for (;;) {
    ctx.signal?.throwIfAborted();
    const status = await jobStatus(jobId);
    if (status?.state === 'RUNNING' && status.nodes) return status;
    if (hasEnded(status)) {
      const tail = lastLines(logPath, 20).map((line) => `    ${ctx.maskLine(line)}`);
      throw new UserError(
        [
          `evalrig: Slurm job ${jobId} ended before it ran: ${status ? `${status.state} (${status.reason})` : 'gone from the queue'}.`,
          ...(status?.reason === 'JobLaunchFailure'
            ? ['  Slurm could not launch it: is the run directory writable from the compute node?']
            : []),
          ...(tail.length > 0 ? [`  The job's output (${logPath}):`, ...tail] : []),
        ].join('\n'),
        ExitCode.runFailed,
      );
    }
    if (status && status.state === 'PENDING' && status.reason !== lastReason) {
      lastReason = status.reason;
      ctx.warn?.(`Slurm job ${jobId} is waiting in the queue: ${status.reason}`);
    }
    if (Date.now() >= deadline) {
      throw new UserError(
        `evalrig: Slurm job ${jobId} still waits in the queue (${status?.reason ?? 'unknown'}) after server.slurm.queue_timeout; cancelled.`,
        ExitCode.runFailed,
      );
    }
    await delay(POLL_MS, ctx.signal);
  }
}

/** Resolves once the job has ended, with its exit code as scontrol reports it. */
async function watchJob(jobId: string): Promise<ExitInfo> {
  // A controller that does not answer for a moment is not the end of the job: ask again.
  const unknown: JobStatus = { state: 'UNKNOWN', nodes: '', reason: '' };
  while (!hasEnded(await jobStatus(jobId).catch(() => unknown))) await delay(POLL_MS);
  return jobExit(jobId);
}

/**
 * Submits the job that serves the model and follows it to its node: the returned handle's base URL is that node's
 * address. The handle's `stop` cancels the job and confirms in the queue that it ended; the caller always calls it.
 */
export async function startSlurmJob(server: ServerSpec, ctx: StartContext): Promise<ServerHandle> {
  const slurm = slurmSpec(server);
  const port = server.port === 'auto' ? pickJobPort() : server.port;
  const { args, script } = planJob(server, {
    runId: ctx.runId,
    runDir: ctx.runDir,
    planDir: ctx.planDir,
    planName: ctx.planName ?? 'plan',
    port,
    ...(ctx.reasoningFlags === undefined ? {} : { reasoningFlags: ctx.reasoningFlags }),
  });
  writeFileSync(join(ctx.runDir, JOB_SCRIPT), script, { mode: 0o755 });
  const jobId = await submitJob(args, buildServerEnv(server));
  const logPath = join(ctx.runDir, `slurm-${jobId}.log`);
  // Last resort if evalrig exits without its teardown; where not even this runs, the job's comment lets cleanup find it.
  const unguard = guardUntilStopped(() => cancelJobSync(jobId));
  const sink = new LogSink(ctx.logFile, 400, ctx.maskLine);
  const follower = followJobLog(logPath, sink);

  let skipGrace: (() => void) | undefined;
  const skipped = new Promise<void>((resolve) => (skipGrace = resolve));
  let stopping: Promise<StopReport> | undefined;
  const stop: ServerHandle['stop'] = (options) => {
    if (options.immediate) skipGrace?.();
    stopping ??= (async () => {
      const started = Date.now();
      let report: StopReport;
      try {
        const cancel = await cancelJob(jobId, options.immediate ? 0 : options.graceMs, skipped);
        report = {
          outcome: cancel.killed ? 'killed' : 'graceful',
          duration_ms: Date.now() - started,
          verified: cancel.ended,
          detail: cancel.ended
            ? `Slurm job ${jobId} ended (${cancel.state})${cancel.killed ? ' after SIGKILL: vLLM outlived the grace after SIGTERM' : ''}`
            : `Slurm job ${jobId} still ${cancel.state} after scancel: check \`squeue -j ${jobId}\``,
        };
      } catch (error) {
        report = {
          outcome: 'killed',
          duration_ms: Date.now() - started,
          verified: false,
          detail: `cancelling job ${jobId} failed: ${(error as Error).message}`,
        };
      }
      await follower.stop();
      await sink.close();
      if (report.verified) unguard();
      return report;
    })();
    return stopping;
  };

  let status: JobStatus;
  try {
    status = await waitRunning(jobId, slurm.queue_timeout * 1000, ctx, logPath);
  } catch (error) {
    await stop({ graceMs: 0 });
    throw error;
  }
  const node = firstNode(status.nodes);
  return {
    runtime: 'slurm',
    launched: true,
    hints: slurmHints(jobId, node, port),
    baseUrl: clientUrl(node, port),
    ...(server.api_key === undefined ? {} : { apiKey: server.api_key }),
    servedModel: server.served_model_name ?? server.model ?? '',
    displayArgv: ['sbatch', ...args],
    exited: watchJob(jobId),
    logTail: (lines) => sink.lines(lines),
    onLogLine: (listener) => sink.onLine(listener),
    stop,
  };
}
