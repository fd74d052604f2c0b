import { readdirSync, readFileSync } from 'node:fs';

/** Signalling and watching a whole process group: vLLM's EngineCore and workers live in the server's group. */

/**
 * Live members of a process group, from /proc (Linux). Zombies are left out: they hold no memory and, where PID 1
 * does not reap orphans (some containers), they would otherwise count as "alive" forever. Null without /proc.
 */
function liveGroupMembers(pgid: number): number[] | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return null;
  }
  const members: number[] = [];
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // exited meanwhile
    }
    // Fields after the command name, which may itself hold spaces and parentheses: state ppid pgrp ...
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === pgid && fields[0] !== 'Z' && fields[0] !== 'X') members.push(Number(entry));
  }
  return members;
}

/** True while any live process of the group exists. */
export function groupAlive(pgid: number): boolean {
  const members = liveGroupMembers(pgid);
  if (members !== null) return members.length > 0;
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    // EPERM means a process exists that we may not signal: still alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** Wait until the group is gone or `ms` passed; `interrupt` resolves the wait early. Returns whether it is gone. */
export async function waitGroupGone(pgid: number, ms: number, interrupt?: Promise<void>): Promise<boolean> {
  const deadline = Date.now() + ms;
  let interrupted = false;
  void interrupt?.then(() => {
    interrupted = true;
  });
  while (groupAlive(pgid)) {
    if (interrupted || Date.now() >= deadline) return !groupAlive(pgid);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}
