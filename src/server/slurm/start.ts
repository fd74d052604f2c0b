import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode, UserError } from '../../errors.js';
import type { ServerSpec } from '../../plan/schema.js';
import { delay } from '../../util/delay.js';
import { clientUrl } from '../../util/ports.js';
import { buildServerEnv } from '../../vllm/argv.js';
import { guardUntilStopped } from '../leftovers/exit-guard.js';
import { LogSink } from '../log-sink.js';
import type { ExitInfo, ReadinessHints, ServerHandle, StartContext, StopReport } from '../runtime.js';
import { JOB_SCRIPT, planJob, slurmSpec } from './job-plan.js';
import { describeJobEnd } from './job-end.js';
import { followJobLog } from './log-follower.js';
import {
  cancelJob,
  cancelJobSync,
  firstNode,
  hasEnded,
  jobExit,
  jobStatus,
  POLL_MS,
  stillServing,
  submitJob,
  type JobStatus,
} from './scheduler.js';

/** `port: auto` on a node evalrig cannot look at: a port from a range few services use, chosen at random. */
export function pickJobPort(random = Math.random): number {
  return 20_000 + Math.floor(random() * 40_000);
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

/** The job being followed: its id, its output file and the plan's time limit, for the words about its end. */
interface FollowedJob {
  jobId: string;
  logPath: string;
  timeLimit: string | undefined;
  /** Set once the handle's own stop has begun: the end that follows is no surprise. */
  stopping: boolean;
}

async function describeEnd(
  job: FollowedJob,
  status: JobStatus | null,
): Promise<ExitInfo & { description: string }> {
  const exit = await jobExit(job.jobId);
  const description = describeJobEnd({
    jobId: job.jobId,
    status,
    exit,
    logPath: job.logPath,
    stoppedByEvalrig: job.stopping,
    ...(job.timeLimit === undefined ? {} : { timeLimit: job.timeLimit }),
  });
  return { ...exit, description };
}

/** Waits until the job runs; the queue's reason is reported each time it changes while the job waits. */
async function waitRunning(job: FollowedJob, queueTimeoutMs: number, ctx: StartContext): Promise<JobStatus> {
  const { jobId, logPath } = job;
  const deadline = Date.now() + queueTimeoutMs;
  let lastReason = '';
  for (;;) {
    ctx.signal?.throwIfAborted();
    const status = await jobStatus(jobId);
    if (status?.state === 'RUNNING' && status.nodes) return status;
    if (hasEnded(status)) {
      const tail = lastLines(logPath, 20).map((line) => `    ${ctx.maskLine(line)}`);
      const { description } = await describeEnd(job, status);
      throw new UserError(
        [
          `evalrig: vLLM's job ended before vLLM was ready. ${description}`,
          ...(tail.length > 0 ? ["  The job's last lines:", ...tail] : []),
        ].join('\n'),
        ExitCode.runFailed,
      );
    }
    // `None`: not yet looked at by the scheduler, which is no reason to mention.
    if (status?.state === 'PENDING' && status.reason !== 'None' && status.reason !== lastReason) {
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

/**
 * Resolves once the job no longer serves, with its exit code and Slurm's account of why, after the job's last
 * output has reached the log: a message about the end may quote it.
 */
async function watchJob(job: FollowedJob, catchUp: () => Promise<void>): Promise<ExitInfo> {
  // A controller that does not answer for a moment is not the end of the job: ask again.
  const unknown: JobStatus = { state: 'RUNNING', nodes: '', reason: 'controller not answering' };
  for (;;) {
    const status = await jobStatus(job.jobId).catch(() => unknown);
    if (!stillServing(status)) {
      await catchUp();
      return describeEnd(job, status);
    }
    await delay(POLL_MS);
  }
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
  const job: FollowedJob = { jobId, logPath, timeLimit: slurm.time, stopping: false };
  // Last resort if evalrig exits without its teardown; where not even this runs, the job's comment lets cleanup find it.
  const unguard = guardUntilStopped(() => cancelJobSync(jobId));
  const sink = new LogSink(ctx.logFile, 400, ctx.maskLine);
  const follower = followJobLog(logPath, sink);

  let skipGrace: (() => void) | undefined;
  const skipped = new Promise<void>((resolve) => (skipGrace = resolve));
  let stopping: Promise<StopReport> | undefined;
  const stop: ServerHandle['stop'] = (options) => {
    if (options.immediate) skipGrace?.();
    job.stopping = true;
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
    status = await waitRunning(job, slurm.queue_timeout * 1000, ctx);
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
    exited: watchJob(job, () => follower.catchUp()),
    logTail: (lines) => sink.lines(lines),
    onLogLine: (listener) => sink.onLine(listener),
    stop,
  };
}
