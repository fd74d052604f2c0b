import type { HostNeeds } from '../../util/host-needs.js';

/** An endpoint someone else runs: nothing of this host serves it. */
export function externalHostNeeds(): HostNeeds {
  return {
    gpus: { notApplicable: 'runtime external uses a server that runs elsewhere' },
    vllm: 'none',
    modelOnHost: false,
    portOnHost: false,
  };
}
