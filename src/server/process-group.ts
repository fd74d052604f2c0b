import { readdirSync, readFileSync } from 'node:fs';
import { createWaker } from '../util/waker.js';

/** Signalling and watching a whole process group: vLLM's EngineCore and workers live in the server's group. */

/**
 * How a stop checks whether the group is gone: first soon after the signal, then less and less often. A well-behaved
 * server exits within milliseconds of SIGTERM, a loaded one may take seconds; the leader's exit (when the caller
 * can see it) triggers a check at once.
 */
const FIRST_CHECK_MS = 2;
const LONGEST_CHECK_GAP_MS = 100;

/**
 * Whether the group has a member that is not a zombie, from /proc (Linux); null without /proc. Zombies hold no
 * memory, and where PID 1 does not reap orphans (some containers) they would otherwise count as alive forever.
 */
function hasLiveMember(pgid: number): boolean | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  for (const entry of entries) {
    if (entry.charCodeAt(0) > 57) continue; // not a pid folder
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // After the command name, which may itself hold spaces and parentheses: state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ', 3);
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') return true;
  }
  return false;
}

/** True while any live process of the group exists. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    // ESRCH: no process at all. EPERM: a process we may not signal exists, so it is alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // Something answers; only the /proc scan can tell a live process from a zombie.
  return hasLiveMember(pgid) ?? true;
}

/** Never throws: teardown must go on whatever one signal does. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: already gone; EPERM: not ours to signal, which the verification will report.
  }
}

/** What may end a wait for the group early. */
export interface GroupWaitEvents {
  /** Stops the wait (a second Ctrl-C): the caller goes on to SIGKILL. */
  interrupt?: Promise<void>;
  /** The group's leader exited: the group is likely empty now, so look at once. */
  leaderExited?: Promise<unknown>;
}

/** Wait until the group is gone or `ms` passed. Returns whether it is gone. */
export async function waitGroupGone(
  pgid: number,
  ms: number,
  events: GroupWaitEvents = {},
): Promise<boolean> {
  const deadline = Date.now() + ms;
  let interrupted = false;
  const waker = createWaker();
  void events.interrupt?.then(() => {
    interrupted = true;
    waker.wake();
  });
  let gap = FIRST_CHECK_MS;
  void events.leaderExited?.then(() => {
    gap = FIRST_CHECK_MS;
    waker.wake();
  });
  try {
    for (;;) {
      waker.reset();
      if (!groupAlive(pgid)) return true;
      const left = deadline - Date.now();
      if (interrupted || left <= 0) return false;
      await waker.sleep(Math.min(gap, left));
      gap = Math.min(gap * 2, LONGEST_CHECK_GAP_MS);
    }
  } finally {
    waker.dispose();
  }
}

/**
 * How long SIGKILL may take to empty a group before a stop is called unverified. A killed process exits only once
 * the kernel has released what it holds, and tearing down a GPU context can take many seconds.
 */
export const KILL_WAIT_MS = 30_000;

/**
 * SIGTERM to the group, up to `graceMs` for it to go (`events.interrupt` cuts the wait: a second Ctrl-C), then SIGKILL
 * and up to KILL_WAIT_MS more. `gone` tells whether nothing of the group is left; `killWaitMs`, how long it took
 * to empty after SIGKILL.
 */
export async function terminateGroup(
  pgid: number,
  graceMs: number,
  events: GroupWaitEvents = {},
): Promise<{ gone: boolean; outcome: 'graceful' | 'killed'; killWaitMs: number }> {
  signalGroup(pgid, 'SIGTERM');
  if (graceMs > 0 && (await waitGroupGone(pgid, graceMs, events)))
    return { gone: true, outcome: 'graceful', killWaitMs: 0 };
  signalGroup(pgid, 'SIGKILL');
  const killedAt = Date.now();
  const gone = await waitGroupGone(pgid, KILL_WAIT_MS, { leaderExited: events.leaderExited });
  return { gone, outcome: 'killed', killWaitMs: Date.now() - killedAt };
}

/** Process start times come with tick resolution and the boot time with second resolution. */
export const START_TIME_SLACK_MS = 2_000;

/** Linux: the boot time, from /proc/stat, to turn /proc/<pid>/stat's start ticks into a date. */
function bootTimeMs(): number | null {
  try {
    const match = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'));
    return match?.[1] ? Number(match[1]) * 1000 : null;
  } catch {
    return null;
  }
}

/** USER_HZ: the kernel's clock ticks per second for /proc times; 100 on every mainstream Linux build. */
const CLOCK_TICKS_PER_SECOND = 100;

/**
 * When process `pid` started; null when there is no such process. Where /proc is not available, a live pid
 * counts as started at the epoch, i.e. as the owner (never remove what might still be in use).
 */
export function processStartedAt(pid: number): Date | null {
  if (!Number.isInteger(pid) || pid <= 0) return null;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const startTicks = Number(fields[19]);
    const boot = bootTimeMs();
    if (boot === null || !Number.isFinite(startTicks)) return new Date(0);
    return new Date(boot + (startTicks / CLOCK_TICKS_PER_SECOND) * 1000);
  } catch {
    return new Date(0);
  }
}

/** Whether `pid` is a process that already ran at `since`: not gone, and not a newer process that reused the pid. */
export function runningSince(pid: number, since: Date): boolean {
  const startedAt = processStartedAt(pid);
  return startedAt !== null && startedAt.getTime() <= since.getTime() + START_TIME_SLACK_MS;
}
