import type { LeftoverSource } from '../runtime.js';
import { findOrphanServers, stopOrphanServer } from './records.js';

/** vLLM process groups whose evalrig was killed before its teardown, found through the records it left. */
export const localLeftovers: LeftoverSource = {
  label: 'local vLLM processes',
  available: () => true,
  find: async () =>
    findOrphanServers().map((orphan) => ({
      name: `process group ${orphan.record.pgid}`,
      detail: `${orphan.record.command} (run ${orphan.record.run_dir}, started ${orphan.record.started_at})`,
      verdict: 'orphan' as const,
      reason: `evalrig pid ${orphan.record.owner_pid} is gone`,
      stop: (graceMs: number) => stopOrphanServer(orphan, graceMs),
    })),
};
