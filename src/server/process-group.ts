/** Signalling and watching a whole process group: vLLM's EngineCore and workers live in the server's group. */

/** True while any process of the group exists (zombies of our own child excepted: Node reaps them). */
export function groupAlive(pgid: number): boolean {
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
