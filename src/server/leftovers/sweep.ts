import type { Leftover, LeftoverSource } from '../runtime.js';
import { allRuntimes, runtimeFor } from '../registry.js';
import type { ServerSpec } from '../../plan/schema.js';

/**
 * What dead evalrig runs left running, for every runtime that starts something: `evalrig cleanup` lists and stops
 * it, `evalrig plan` warns about it before a start. Each runtime knows how to find its own (process records,
 * container labels, the Slurm queue); this module only goes through them.
 */

export interface CleanupOptions {
  /** Stop the orphans; false only lists them. */
  act: boolean;
  graceMs: number;
  /** Where the report goes, a line at a time. */
  print: (line: string) => void;
  /** A place that could not be searched, or something else the user must act on. */
  warn: (message: string) => void;
}

/** What a clean-up found and did, for the command's exit code. */
export interface CleanupOutcome {
  /** Orphans that --yes tried to stop and could not. */
  notStopped: number;
  /** The places that could not be searched (an engine or a controller that does not answer), by label. */
  unsearched: string[];
}

function registeredSources(): LeftoverSource[] {
  return allRuntimes().flatMap((runtime) => (runtime.leftovers ? [runtime.leftovers] : []));
}

function printGroup(print: (line: string) => void, title: string, leftovers: Leftover[]): void {
  if (leftovers.length === 0) return;
  print(title);
  for (const leftover of leftovers) print(`  ${leftover.name}: ${leftover.detail}: ${leftover.reason}`);
}

/** The search errors are written as whole messages of their own; inside a warning their `evalrig: ` is noise. */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/^evalrig: /, '');
}

/** A stop that throws instead of reporting is still one orphan not stopped, not the end of the clean-up. */
async function stopSafely(orphan: Leftover, graceMs: number): Promise<{ stopped: boolean; detail: string }> {
  try {
    return await orphan.stop(graceMs);
  } catch (error) {
    return { stopped: false, detail: reasonOf(error) };
  }
}

/** Lists the orphans of one place and, with `act`, stops them; returns how many could not be stopped. */
async function cleanPlace(
  source: LeftoverSource,
  found: Leftover[],
  options: CleanupOptions,
): Promise<number> {
  const { print } = options;
  printGroup(
    print,
    'Still in use by a running evalrig (left alone):',
    found.filter((l) => l.verdict === 'owned'),
  );
  printGroup(
    print,
    'Started from another host, not ours to judge (left alone):',
    found.filter((l) => l.verdict === 'foreign'),
  );
  const orphans = found.filter((leftover) => leftover.verdict === 'orphan');
  if (orphans.length === 0) {
    print(`No leftover ${source.label}.`);
    return 0;
  }
  printGroup(print, `Leftover ${source.label} of runs whose evalrig is gone (${orphans.length}):`, orphans);
  if (!options.act) {
    print('Dry run: nothing was stopped or removed. Run `evalrig cleanup --yes` to stop them.');
    return 0;
  }
  const results = await Promise.all(orphans.map((orphan) => stopSafely(orphan, options.graceMs)));
  let notStopped = 0;
  orphans.forEach((orphan, i) => {
    const result = results[i];
    if (!result) return;
    print(`  ${orphan.name}: ${result.stopped ? result.detail : `NOT stopped: ${result.detail}`}`);
    if (!result.stopped) notStopped += 1;
  });
  return notStopped;
}

/**
 * Lists (and with `act`, stops) the orphans of every place. All places are searched at once, and one that cannot be
 * searched (an engine or a Slurm controller that does not answer) is a warning: the others are still cleaned.
 */
export async function cleanupLeftovers(
  options: CleanupOptions,
  sources: readonly LeftoverSource[] = registeredSources(),
): Promise<CleanupOutcome> {
  const present = sources.filter((source) => {
    if (source.available()) return true;
    options.print(`No ${source.label}: not configured on this machine, nothing to clean.`);
    return false;
  });
  const searches = await Promise.allSettled(present.map((source) => source.find()));
  const outcome: CleanupOutcome = { notStopped: 0, unsearched: [] };
  for (const [i, source] of present.entries()) {
    const search = searches[i];
    if (!search) continue;
    if (search.status === 'rejected') {
      options.warn(`${source.label} not searched: ${reasonOf(search.reason)}`);
      outcome.unsearched.push(source.label);
      continue;
    }
    outcome.notStopped += await cleanPlace(source, search.value, options);
  }
  if (outcome.unsearched.length > 0)
    options.warn(
      `not searched: ${outcome.unsearched.join('; ')}. What evalrig left there was neither listed nor stopped: ` +
        'fix what the warnings above say, then run `evalrig cleanup` again.',
    );
  return outcome;
}

/**
 * Orphans of the plan's own runtime, for a warning before a start (they may hold the GPU memory this run needs).
 * Never throws: a place that cannot be searched is no reason to refuse a run (its start says so if it matters).
 * Asks only that runtime: a local plan never talks to Docker.
 */
export async function orphansOf(server: ServerSpec): Promise<{ label: string; names: string[] } | null> {
  try {
    const source = runtimeFor(server).leftovers;
    if (!source?.available()) return null;
    const found = await source.find();
    const names = found.filter((leftover) => leftover.verdict === 'orphan').map((leftover) => leftover.name);
    return names.length > 0 ? { label: source.label, names } : null;
  } catch {
    return null;
  }
}
