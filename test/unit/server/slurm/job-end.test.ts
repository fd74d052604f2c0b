import { describe, expect, it } from 'vitest';
import { describeJobEnd, type JobEnd } from '../../../../src/server/slurm/job-end.js';
import { stillServing, type JobStatus } from '../../../../src/server/slurm/scheduler.js';

function end(state: string, reason = 'None', exit: JobEnd['exit'] = { code: 0, signal: 'SIGTERM' }): JobEnd {
  return {
    jobId: '77',
    status: { state, nodes: 'gpu01', reason },
    exit,
    logPath: '/runs/r1/slurm-77.log',
    timeLimit: '2:00:00',
  };
}

describe("a job's end in words", () => {
  it('names the time limit the plan set and how to go on', () => {
    expect(describeJobEnd(end('TIMEOUT', 'TimeLimit'))).toBe(
      'Slurm job 77 ended: TIMEOUT (killed by SIGTERM, TimeLimit): it reached its time limit ' +
        '(server.slurm.time: 2:00:00): raise server.slurm.time, then resume the run',
    );
    const noLimit: JobEnd = { ...end('TIMEOUT'), timeLimit: undefined };
    expect(describeJobEnd(noLimit)).toContain('it reached its time limit: raise server.slurm.time');
  });

  it('reports preemption, and a requeued job that shows pending again, as the loss of the server', () => {
    const preempted = describeJobEnd(end('PREEMPTED'));
    expect(preempted).toMatch(
      /^Slurm job 77 ended: PREEMPTED \(killed by SIGTERM\): a job of higher priority/,
    );
    expect(preempted).toContain('server.slurm.qos');
    expect(describeJobEnd(end('PENDING', 'BeginTime'))).toMatch(
      /ended: REQUEUED \(.*BeginTime\): Slurm requeued it/,
    );
    expect(describeJobEnd(end('SUSPENDED'))).toContain('Slurm suspended it');
  });

  it('tells a cancel from outside, a failed node and a memory limit apart', () => {
    expect(describeJobEnd(end('CANCELLED'))).toContain('cancelled from outside this evalrig');
    expect(describeJobEnd({ ...end('CANCELLED'), stoppedByEvalrig: true })).toBe(
      "Slurm job 77 ended: CANCELLED (killed by SIGTERM): evalrig's teardown ended it",
    );
    expect(describeJobEnd(end('NODE_FAIL', 'NodeDown'))).toContain('its node failed');
    expect(describeJobEnd(end('OUT_OF_MEMORY', 'OutOfMemory', { code: 0, signal: 'SIGKILL' }))).toContain(
      'raise server.slurm.mem',
    );
  });

  it("reads a failed job's exit code: a missing command, a setup line, a log it could not write", () => {
    expect(describeJobEnd(end('FAILED', 'NonZeroExitCode', { code: 127, signal: null }))).toBe(
      'Slurm job 77 ended: FAILED (exit code 127, NonZeroExitCode): the job could not find a command (vLLM, or ' +
        "one in server.slurm.setup): set server.executable to vLLM's path on the node, or load it in " +
        "server.slurm.setup; the job's output: /runs/r1/slurm-77.log",
    );
    expect(describeJobEnd(end('FAILED', 'NonZeroExitCode', { code: 3, signal: null }))).toContain(
      'a line of server.slurm.setup or vLLM itself failed',
    );
    expect(describeJobEnd(end('FAILED', 'JobLaunchFailure', { code: 0, signal: 'signal 53' }))).toContain(
      'is the run directory writable from the compute node?',
    );
  });

  it('says when vLLM exited by itself, and when Slurm forgot the job', () => {
    expect(describeJobEnd(end('COMPLETED', 'None', { code: 0, signal: null }))).toBe(
      "Slurm job 77 ended: COMPLETED (exit code 0): vLLM exited on its own; the job's output says why " +
        '(/runs/r1/slurm-77.log)',
    );
    expect(describeJobEnd({ ...end('RUNNING'), status: null })).toMatch(
      /^Slurm job 77 is gone from the queue/,
    );
  });
});

describe('whether a job still serves', () => {
  const status = (state: string): JobStatus => ({ state, nodes: 'vm', reason: 'None' });

  it('only while it runs, or completes on its way to a final state', () => {
    expect(stillServing(status('RUNNING'))).toBe(true);
    expect(stillServing(status('COMPLETING'))).toBe(true);
    for (const state of ['PENDING', 'SUSPENDED', 'TIMEOUT', 'PREEMPTED', 'CANCELLED', 'REQUEUED'])
      expect(stillServing(status(state)), state).toBe(false);
    expect(stillServing(null)).toBe(false);
  });
});
