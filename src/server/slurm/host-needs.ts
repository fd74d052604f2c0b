import type { HostNeeds } from '../../util/host-needs.js';

/** vLLM on a node Slurm chooses: nothing of it (GPUs, vLLM, model, port) is on the host evalrig runs on. */
export function slurmHostNeeds(): HostNeeds {
  return {
    gpus: { notApplicable: "Slurm allocates the job's GPUs on its node" },
    vllm: { elsewhere: 'runs on the Slurm node; not checked on this host' },
    modelOnHost: false,
    portOnHost: false,
  };
}
