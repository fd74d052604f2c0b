import type { ExitInfo } from '../runtime.js';
import type { JobStatus } from './scheduler.js';

/**
 * How a job that served (or was to serve) the model ended, in the scheduler's words and with what to do, from its
 * last state in the queue. Pure: the queue's answers come in, one sentence goes out.
 */

export interface JobEnd {
  jobId: string;
  /** The last state the queue reported; null once Slurm no longer knows the job. */
  status: JobStatus | null;
  exit: ExitInfo;
  /** The job's output file, named where it may say more. */
  logPath: string;
  /** The plan's time limit (server.slurm.time), quoted when the job reached it. */
  timeLimit?: string | undefined;
  /** evalrig's own teardown ended the job: a cancel is then no news. */
  stoppedByEvalrig?: boolean;
}

/** What to do when a job ended in a state, or null when the state says nothing beyond its exit code. */
const REMEDIES: Record<string, (end: JobEnd) => string> = {
  TIMEOUT: (end) =>
    `it reached its time limit${end.timeLimit === undefined ? '' : ` (server.slurm.time: ${end.timeLimit})`}: ` +
    'raise server.slurm.time, then resume the run',
  PREEMPTED: () =>
    'a job of higher priority took its resources: ask for a partition or QOS whose jobs are not preempted ' +
    '(server.slurm.partition, server.slurm.qos), then resume the run',
  SUSPENDED: () =>
    'Slurm suspended it (preemption by suspension, or an administrator): vLLM stopped answering; resume the run later',
  REQUEUED: () =>
    'Slurm requeued it (preemption, or its node failed): the server it ran is gone; resume the run',
  CANCELLED: () =>
    'it was cancelled from outside this evalrig (scancel by a user or an administrator, or a node taken out of ' +
    'service); resume the run',
  NODE_FAIL: () => 'its node failed or stopped answering the controller; resume the run on another node',
  BOOT_FAIL: () =>
    'its node failed to boot; run again, or exclude the node (extra_sbatch_args: ["--exclude=…"])',
  DEADLINE: () => 'it reached its --deadline before it could finish; resume the run',
  OUT_OF_MEMORY: () => 'it used more host memory than it asked for: raise server.slurm.mem',
};

/** A job the queue shows pending again after it ran was requeued: its server is gone all the same. */
function endedState(status: JobStatus): string {
  return status.state === 'PENDING' || status.state === 'REQUEUE_HOLD' ? 'REQUEUED' : status.state;
}

function exitWords(exit: ExitInfo): string {
  if (exit.signal) return `killed by ${exit.signal}`;
  return exit.code === null ? 'exit code unknown' : `exit code ${exit.code}`;
}

/** The remedy for a job that failed on its own: the shell's codes for a command it could not run, or the log. */
function failureRemedy(end: JobEnd): string {
  if (end.status?.reason === 'JobLaunchFailure')
    return `Slurm could not launch it: is the run directory writable from the compute node? (${end.logPath})`;
  if (end.exit.code === 127)
    return (
      'the job could not find a command (vLLM, or one in server.slurm.setup): set server.executable to ' +
      `vLLM's path on the node, or load it in server.slurm.setup; the job's output: ${end.logPath}`
    );
  if (end.exit.code === 126)
    return `a command of the job is not executable (server.executable?); the job's output: ${end.logPath}`;
  return `a line of server.slurm.setup or vLLM itself failed: the job's output says which (${end.logPath})`;
}

/** One sentence: which job, the state Slurm gave it, why and what to do. */
export function describeJobEnd(end: JobEnd): string {
  if (end.status === null)
    return (
      `Slurm job ${end.jobId} is gone from the queue: Slurm no longer knows it (cancelled and forgotten, or the ` +
      `controller lost its state); the job's output: ${end.logPath}`
    );
  const state = endedState(end.status);
  const reason = end.status.reason && end.status.reason !== 'None' ? `, ${end.status.reason}` : '';
  const head = `Slurm job ${end.jobId} ended: ${state} (${exitWords(end.exit)}${reason})`;
  if (end.stoppedByEvalrig) return `${head}: evalrig's teardown ended it`;
  const remedy = REMEDIES[state];
  if (remedy) return `${head}: ${remedy(end)}`;
  if (state === 'COMPLETED')
    return `${head}: vLLM exited on its own; the job's output says why (${end.logPath})`;
  return `${head}: ${failureRemedy(end)}`;
}
