import { constants } from 'node:os';
import { execa, execaSync } from 'execa';
import { ExitCode, UserError } from '../../errors.js';
import { delay } from '../../util/delay.js';
import type { ExitInfo } from '../runtime.js';

/**
 * The Slurm commands evalrig uses (sbatch, squeue, scontrol, scancel), as argument arrays. squeue is the one
 * source of a job's state: scancel says nothing and exits 0 even when it did nothing, so every cancel is confirmed.
 */

/** How often the queue is asked while a job waits, starts or ends. */
export const POLL_MS = 1_000;
/** A squeue or scontrol that hangs (an unreachable controller) must not hang the run. */
const COMMAND_TIMEOUT_MS = 30_000;

/** States in which a job will never run (again). */
const ENDED_STATES = new Set([
  'BOOT_FAIL',
  'CANCELLED',
  'COMPLETED',
  'DEADLINE',
  'FAILED',
  'NODE_FAIL',
  'OUT_OF_MEMORY',
  'PREEMPTED',
  'TIMEOUT',
]);

export interface JobStatus {
  /** squeue's %T: PENDING, RUNNING, CANCELLED, TIMEOUT… */
  state: string;
  /** The nodes of a running job (%N), empty while pending. */
  nodes: string;
  /** Why it waits or ended (%r): Resources, Priority, JobLaunchFailure… */
  reason: string;
}

export function hasEnded(status: JobStatus | null): boolean {
  return status === null || ENDED_STATES.has(status.state);
}

/**
 * Whether a job that ran still serves. Any other state means its server is gone, ended or not: a requeued job is
 * PENDING again, a suspended one frozen. COMPLETING passes, briefly, on the way to the state that says why.
 */
export function stillServing(status: JobStatus | null): boolean {
  return status?.state === 'RUNNING' || status?.state === 'COMPLETING';
}

/** Parses `squeue -h -o '%T|%N|%r'`; null when the queue no longer knows the job. */
export function parseJobStatus(stdout: string): JobStatus | null {
  const line = stdout.trim().split('\n')[0];
  if (!line) return null;
  const [state = '', nodes = '', reason = ''] = line.split('|');
  return { state, nodes, reason };
}

/** A job's `ExitCode=code:signal` from `scontrol show job -o`, in the ExitInfo form. */
export function parseExitCode(scontrolLine: string): ExitInfo {
  const match = /\bExitCode=(\d+):(\d+)/.exec(scontrolLine);
  if (!match) return { code: null, signal: null };
  const signalNumber = Number(match[2]);
  if (signalNumber > 0) {
    const signal = Object.entries(constants.signals).find(([, number]) => number === signalNumber)?.[0];
    return { code: null, signal: signal ?? `signal ${signalNumber}` };
  }
  return { code: Number(match[1]), signal: null };
}

/** The first node of a node list: `gpu[01-04]` → gpu01, `a,b` → a. */
export function firstNode(nodeList: string): string {
  const bracket = /^([^[,]+)\[(\d+)/.exec(nodeList);
  if (bracket) return `${bracket[1]}${bracket[2]}`;
  return nodeList.split(',')[0] ?? nodeList;
}

function missingCommand(command: string): UserError {
  return new UserError(
    `evalrig: ${command} was not found on this host. runtime slurm submits from a machine with the Slurm client ` +
      'commands (sbatch, squeue, scancel) on PATH, such as a login node.',
    ExitCode.runFailed,
  );
}

async function slurmCommand(
  command: string,
  args: string[],
): Promise<{ stdout: string; stderr: string; exitCode: number }> {
  const result = await execa(command, args, { reject: false, timeout: COMMAND_TIMEOUT_MS, stdin: 'ignore' });
  if ((result as { code?: string }).code === 'ENOENT') throw missingCommand(command);
  return { stdout: result.stdout, stderr: result.stderr, exitCode: result.exitCode ?? 1 };
}

/**
 * Submits the script; the job id. `env` is added to this process's environment for sbatch, which hands it to the
 * job (--export=ALL): the API key travels that way, never on a command line. A refusal carries sbatch's words.
 */
export async function submitJob(args: string[], env: Record<string, string>): Promise<string> {
  const result = await execa('sbatch', args, {
    env,
    extendEnv: true,
    reject: false,
    timeout: COMMAND_TIMEOUT_MS,
    stdin: 'ignore',
  });
  if ((result as { code?: string }).code === 'ENOENT') throw missingCommand('sbatch');
  const jobId = /^(\d+)/.exec(result.stdout.trim())?.[1];
  if (result.exitCode !== 0 || !jobId) {
    const words = (result.stderr || result.stdout).trim() || `exit code ${String(result.exitCode)}`;
    throw new UserError(
      [
        `evalrig: Slurm refused the job: ${words}`,
        '  Check server.slurm (partition, gpus, time, mem, cpus_per_task) against what the cluster offers (`sinfo`).',
      ].join('\n'),
      ExitCode.runFailed,
    );
  }
  return jobId;
}

/** The job's state as the queue knows it, ended jobs included while Slurm remembers them (MinJobAge). */
export async function jobStatus(jobId: string): Promise<JobStatus | null> {
  const result = await slurmCommand('squeue', ['-h', '-t', 'all', '-j', jobId, '-o', '%T|%N|%r']);
  // rc 1 with "Invalid job id": Slurm has forgotten the job, which ended long ago.
  if (result.exitCode !== 0) {
    if (/invalid job id/i.test(result.stderr)) return null;
    throw new UserError(
      [
        `evalrig: squeue failed for job ${jobId}: ${result.stderr.trim() || `exit code ${result.exitCode}`}`,
        `  The job may still hold its node: look with \`squeue -j ${jobId}\`, and \`scancel ${jobId}\` if it is still there.`,
      ].join('\n'),
      ExitCode.runFailed,
    );
  }
  return parseJobStatus(result.stdout);
}

/** How the job ended, from scontrol; unknown once Slurm has forgotten it. */
export async function jobExit(jobId: string): Promise<ExitInfo> {
  const result = await slurmCommand('scontrol', ['show', 'job', '-o', jobId]);
  return result.exitCode === 0 ? parseExitCode(result.stdout) : { code: null, signal: null };
}

/** Slurm's KillWait: how long a cancelled job's processes get after SIGTERM before Slurm SIGKILLs them. */
export async function killWaitMs(): Promise<number> {
  const result = await slurmCommand('scontrol', ['show', 'config']);
  const seconds = /^KillWait\s*=\s*(\d+)/m.exec(result.stdout)?.[1];
  return (seconds === undefined ? 30 : Number(seconds)) * 1000;
}

/** Polls until the job has ended; its last status, or undefined when it still runs at the deadline. */
export async function waitEnded(
  jobId: string,
  ms: number,
  interrupt?: Promise<void>,
): Promise<JobStatus | null | undefined> {
  const deadline = Date.now() + ms;
  let interrupted = false;
  void interrupt?.then(() => (interrupted = true));
  for (;;) {
    const status = await jobStatus(jobId);
    if (hasEnded(status)) return status;
    if (interrupted || Date.now() >= deadline) return undefined;
    await delay(Math.min(POLL_MS / 4, Math.max(0, deadline - Date.now())));
  }
}

export interface CancelReport {
  ended: boolean;
  /** Whether SIGKILL was needed: the server outlived the grace after SIGTERM. */
  killed: boolean;
  /** The state the job ended in, or its last state. */
  state: string;
}

/**
 * Cancels the job: SIGTERM to its task (vLLM, which the script `exec`s), `graceMs` to exit, then SIGKILL to
 * everything of the job; confirmed by the queue, within the grace plus Slurm's KillWait. `skip` ends the grace
 * early (a second Ctrl-C).
 */
export async function cancelJob(jobId: string, graceMs: number, skip?: Promise<void>): Promise<CancelReport> {
  const before = await jobStatus(jobId);
  if (hasEnded(before)) return { ended: true, killed: false, state: before?.state ?? 'gone' };
  await slurmCommand('scancel', ['--signal=TERM', '--full', jobId]);
  let status = await waitEnded(jobId, graceMs, skip);
  let killed = false;
  if (status === undefined) {
    killed = true;
    await slurmCommand('scancel', [jobId]);
    status = await waitEnded(jobId, (await killWaitMs()) + 10_000);
  }
  return {
    ended: status !== undefined,
    killed,
    state: status === undefined ? 'RUNNING' : (status?.state ?? 'gone'),
  };
}

/** Cancels at once from an 'exit' handler, where nothing asynchronous runs any more. */
export function cancelJobSync(jobId: string): void {
  execaSync('scancel', [jobId], { reject: false, timeout: 10_000, stdin: 'ignore' });
}
