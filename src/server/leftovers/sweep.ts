import type { Leftover, LeftoverSource } from '../runtime.js';
import { allRuntimes, runtimeFor } from '../registry.js';
import type { ServerSpec } from '../../plan/schema.js';

/**
 * What dead evalrig runs left running, for every runtime that starts something: `evalrig cleanup` lists and stops
 * it, `evalrig plan` warns about it before a start. Each runtime knows how to find its own (process records,
 * container labels); this module only goes through them.
 */

export interface CleanupOptions {
  /** Stop the orphans; false only lists them. */
  act: boolean;
  graceMs: number;
  /** Where the report goes, a line at a time. */
  print: (line: string) => void;
}

function sources(): LeftoverSource[] {
  return allRuntimes().flatMap((runtime) => (runtime.leftovers ? [runtime.leftovers] : []));
}

function printGroup(print: (line: string) => void, title: string, leftovers: Leftover[]): void {
  if (leftovers.length === 0) return;
  print(title);
  for (const leftover of leftovers) print(`  ${leftover.name}: ${leftover.detail}: ${leftover.reason}`);
}

/**
 * Lists (and with `act`, stops) the orphans of every runtime. Returns whether all went well: false when one
 * could not be stopped. A place that cannot be searched (an engine that does not answer) throws a UserError.
 */
export async function cleanupLeftovers(options: CleanupOptions): Promise<boolean> {
  const { print } = options;
  let allStopped = true;
  for (const source of sources()) {
    if (!source.available()) {
      print(`No ${source.label}: not configured on this machine, nothing to clean.`);
      continue;
    }
    const found = await source.find();
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
      continue;
    }
    printGroup(print, `Leftover ${source.label} of runs whose evalrig is gone (${orphans.length}):`, orphans);
    if (!options.act) {
      print('Dry run: nothing was stopped or removed. Run `evalrig cleanup --yes` to stop them.');
      continue;
    }
    const results = await Promise.all(orphans.map((orphan) => orphan.stop(options.graceMs)));
    orphans.forEach((orphan, i) => {
      const result = results[i];
      if (!result) return;
      print(`  ${orphan.name}: ${result.stopped ? result.detail : `NOT stopped: ${result.detail}`}`);
      if (!result.stopped) allStopped = false;
    });
  }
  return allStopped;
}

/**
 * Orphans of the plan's own runtime, for a warning before a start (they may hold the GPU memory this run needs).
 * Never throws, and asks only that runtime: a local plan never talks to Docker.
 */
export async function orphansOf(server: ServerSpec): Promise<{ label: string; names: string[] } | null> {
  const source = runtimeFor(server).leftovers;
  if (!source?.available()) return null;
  const found = await source.find().catch(() => []);
  const names = found.filter((leftover) => leftover.verdict === 'orphan').map((leftover) => leftover.name);
  return names.length > 0 ? { label: source.label, names } : null;
}
