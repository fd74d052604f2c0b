import { queryGpus, type QueryGpusOptions } from '../host/nvidia-smi.js';
import type { ServerSpec } from '../plan/schema.js';
import type { HostNeeds } from '../util/host-needs.js';

/** A matrix variant as far as the host it shares with the others is concerned. */
export interface CellOnHost {
  name: string;
  server: Pick<ServerSpec, 'host' | 'port'>;
  needs: HostNeeds;
}

/** Whether two servers would use a GPU in common: a null selection is every GPU of the host. */
function shareGpus(a: HostNeeds['gpus'], b: HostNeeds['gpus']): boolean {
  if (!('selection' in a) || !('selection' in b)) return false;
  if (a.selection === null || b.selection === null) return true;
  const ids = (selection: string) => selection.split(',').map((id) => id.trim());
  const theirs = ids(b.selection);
  return ids(a.selection).some((id) => theirs.includes(id));
}

const names = (cells: readonly CellOnHost[]) => cells.map((cell) => cell.name).join(', ');

/**
 * Whether this host has a GPU, as nvidia-smi lists them. No nvidia-smi, no driver, no device: none. A vLLM that
 * needs one is refused by the preflight, which says why; the simulator needs none.
 */
export async function hostHasGpus(options: QueryGpusOptions = {}): Promise<boolean> {
  const query = await queryGpus(options);
  return query.ok && query.gpus.length > 0;
}

/**
 * What variants run at once would share on this host and fight over, one warning each: the same GPUs (each vLLM
 * takes its gpu_memory_utilization of a GPU's whole memory, so two on one GPU run out of it unless both fit) when
 * the host has any, and each fixed port more than one of them binds (only one can).
 */
export function hostClashes(cells: readonly CellOnHost[], host: { hasGpus: boolean }): string[] {
  const clashes: string[] = [];
  const sharing = host.hasGpus
    ? cells.filter((cell) =>
        cells.some((other) => other !== cell && shareGpus(cell.needs.gpus, other.needs.gpus)),
      )
    : [];
  if (sharing.length > 0)
    clashes.push(
      `matrix variants ${names(sharing)} may run at once on the same GPUs: give each its own with ` +
        'server.cuda_visible_devices per variant, or make them fit together with server.gpu_memory_utilization',
    );
  const bound = cells.filter((cell) => cell.server.port !== 'auto' && cell.needs.portOnHost);
  for (const port of new Set(bound.map((cell) => `${cell.server.host}:${cell.server.port}`))) {
    const binders = bound.filter((cell) => `${cell.server.host}:${cell.server.port}` === port);
    if (binders.length > 1)
      clashes.push(
        `matrix variants ${names(binders)} may run at once on the same port ${port}: only one can bind it; ` +
          'set server.port: auto, or one port per variant',
      );
  }
  return clashes;
}
