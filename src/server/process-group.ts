import { readdirSync, readFileSync } from 'node:fs';

/** Signalling and watching a whole process group: vLLM's EngineCore and workers live in the server's group. */

/** How often a stop checks whether the group is gone. */
const POLL_MS = 100;

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

/** Wait until the group is gone or `ms` passed; `interrupt` resolves the wait early. Returns whether it is gone. */
export async function waitGroupGone(pgid: number, ms: number, interrupt?: Promise<void>): Promise<boolean> {
  const deadline = Date.now() + ms;
  let interrupted = false;
  void interrupt?.then(() => {
    interrupted = true;
  });
  for (;;) {
    if (!groupAlive(pgid)) return true;
    if (interrupted || Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}
