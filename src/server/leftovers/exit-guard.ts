/**
 * The last resort for servers this evalrig started, when it exits without its teardown (an uncaught error,
 * `process.exit`): 'exit' handlers must be synchronous, so each live server registers a synchronous way to end
 * it, and a verified stop unregisters it. Where not even this runs (evalrig SIGKILLed), `evalrig cleanup` finds
 * what is left (sweep.ts).
 */
const lastResorts = new Set<() => void>();

function endAll(): void {
  for (const end of lastResorts) {
    try {
      end();
    } catch {
      // The next server still gets its turn.
    }
  }
}

/** Registers `end` until the returned function is called (after a verified stop). */
export function guardUntilStopped(end: () => void): () => void {
  if (lastResorts.size === 0) process.once('exit', endAll);
  lastResorts.add(end);
  return () => {
    lastResorts.delete(end);
    if (lastResorts.size === 0) process.off('exit', endAll);
  };
}
