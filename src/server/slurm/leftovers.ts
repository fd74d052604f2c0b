import { hostname } from 'node:os';
import { execa } from 'execa';
import { ExitCode, UserError } from '../../errors.js';
import { processStartedAt, START_TIME_SLACK_MS } from '../process-group.js';
import type { Leftover } from '../runtime.js';
import { JOB_NAME_PREFIX, parseJobComment } from './job-script.js';
import { cancelJob } from './scheduler.js';

/** One of this user's jobs as `squeue --me -h -o '%i|%j|%T|%V|%k'` lists it. */
export interface QueuedJob {
  id: string;
  name: string;
  state: string;
  submittedAt: Date;
  comment: string;
}

export function parseQueue(stdout: string): QueuedJob[] {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const [id = '', name = '', state = '', submitted = '', ...comment] = line.split('|');
      return { id, name, state, submittedAt: new Date(submitted), comment: comment.join('|') };
    });
}

export interface OwnerCheck {
  host: string;
  processStartedAt: (pid: number) => Date | null;
}

/**
 * Whether the evalrig that submitted the job still runs: its comment names the host and pid. A pid reused by a
 * process that started after the submission is not the owner.
 */
export function judgeJob(job: QueuedJob, check: OwnerCheck): Pick<Leftover, 'verdict' | 'reason'> | null {
  if (!job.name.startsWith(JOB_NAME_PREFIX)) return null;
  const owner = parseJobComment(job.comment);
  if (!owner) return { verdict: 'foreign', reason: 'its comment names no owner' };
  if (owner.host !== check.host) return { verdict: 'foreign', reason: `submitted from ${owner.host}` };
  const startedAt = check.processStartedAt(owner.pid);
  if (startedAt === null) return { verdict: 'orphan', reason: `owner pid ${owner.pid} is gone` };
  if (startedAt.getTime() > job.submittedAt.getTime() + START_TIME_SLACK_MS) {
    return {
      verdict: 'orphan',
      reason: `owner pid ${owner.pid} is gone (the pid now belongs to a newer process)`,
    };
  }
  return { verdict: 'owned', reason: `owner pid ${owner.pid} is running` };
}

/** A controller that hangs must not hang `cleanup` or `plan`. */
const QUEUE_TIMEOUT_MS = 30_000;

/** evalrig's jobs in this user's Slurm queue, judged by the owner their comment names. */
export async function findLeftoverJobs(): Promise<Leftover[]> {
  const result = await execa('squeue', ['--me', '-h', '-o', '%i|%j|%T|%V|%k'], {
    reject: false,
    timeout: QUEUE_TIMEOUT_MS,
    stdin: 'ignore',
  });
  if (result.exitCode !== 0) {
    const why = result.timedOut
      ? `squeue did not answer within ${QUEUE_TIMEOUT_MS / 1000} s`
      : result.stderr.trim() || `squeue exited with ${String(result.exitCode)}`;
    throw new UserError(
      [
        `evalrig: cannot read the Slurm queue (${why}).`,
        '  Check that the Slurm controller runs and answers from this machine (`scontrol ping`), then try again.',
      ].join('\n'),
      ExitCode.runFailed,
    );
  }
  const check: OwnerCheck = { host: hostname(), processStartedAt };
  return parseQueue(result.stdout).flatMap((job) => {
    const judgement = judgeJob(job, check);
    if (!judgement) return [];
    const owner = parseJobComment(job.comment);
    return [
      {
        name: `Slurm job ${job.id}`,
        detail: `${job.state}; ${owner ? `plan ${owner.plan}, run ${owner.runId}` : job.name}`,
        ...judgement,
        async stop(graceMs: number) {
          const cancel = await cancelJob(job.id, graceMs);
          return {
            stopped: cancel.ended,
            detail: cancel.ended
              ? `cancelled (${cancel.state})`
              : `still ${cancel.state}; try \`scancel ${job.id}\``,
          };
        },
      },
    ];
  });
}
