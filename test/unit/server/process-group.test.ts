import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { groupAlive, terminateGroup, waitGroupGone } from '../../../src/server/process-group.js';

/** A detached group running `script`; `exited` resolves when its leader exits. */
function group(script: string): { pgid: number; exited: Promise<void> } {
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { pgid: child.pid as number, exited };
}

describe('process groups', () => {
  it('sees a detached group alive until its last member exits', async () => {
    const { pgid } = group('sleep 0.3 & sleep 0.1; wait');
    expect(groupAlive(pgid)).toBe(true);
    expect(await waitGroupGone(pgid, 5_000)).toBe(true);
    expect(groupAlive(pgid)).toBe(false);
  });

  it('stops a group that leaves SIGTERM to its default, without waiting out the grace', async () => {
    const { pgid, exited } = group('sleep 30 & wait');
    const started = Date.now();
    const result = await terminateGroup(pgid, 20_000, { leaderExited: exited });
    expect(result).toEqual({ gone: true, outcome: 'graceful', killWaitMs: 0 });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('counts a group whose only member left is a zombie as gone', async () => {
    // `exec` makes the leader a `sleep` that never reaps the child forked before it: that child stays a zombie.
    const { pgid, exited } = group('sleep 0.05 & exec sleep 30');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const result = await terminateGroup(pgid, 20_000, { leaderExited: exited });
    expect(result.gone).toBe(true);
    expect(result.outcome).toBe('graceful');
  });

  it('cuts the graceful wait when interrupted, then kills the group', async () => {
    const { pgid, exited } = group('trap "" TERM; while :; do sleep 0.05; done');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const result = await terminateGroup(pgid, 60_000, {
      interrupt: new Promise((resolve) => setTimeout(resolve, 200)),
      leaderExited: exited,
    });
    expect(result.gone).toBe(true);
    expect(result.outcome).toBe('killed');
  });
});
