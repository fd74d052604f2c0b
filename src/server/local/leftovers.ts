import type { LeftoverSource } from '../runtime.js';
import { findRecordedServers, stopOrphanServer } from './records.js';

/**
 * vLLM process groups of this host started by evalrig, found through the records it keeps until a verified stop:
 * orphans when their evalrig was killed before its teardown, otherwise another run's live server.
 */
export const localLeftovers: LeftoverSource = {
  label: 'local vLLM processes',
  available: () => true,
  find: async () =>
    findRecordedServers().map((server) => ({
      name: `process group ${server.record.pgid}`,
      detail: `${server.record.command} (run ${server.record.run_dir}, started ${server.record.started_at})`,
      verdict: server.ownerAlive ? ('owned' as const) : ('orphan' as const),
      reason: `evalrig pid ${server.record.owner_pid} ${server.ownerAlive ? 'is running' : 'is gone'}`,
      gpus: server.record.gpus,
      stop: (graceMs: number) => stopOrphanServer(server, graceMs),
    })),
};
