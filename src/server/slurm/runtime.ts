import { detectVllmVersion } from '../../vllm/detect.js';
import type { ServerRuntime } from '../runtime.js';
import { slurmHostNeeds } from './host-needs.js';
import { slurmLeftovers } from './leftovers.js';
import { JOB_SCRIPT, planJob, startSlurmJob } from './start.js';

/** vLLM as a Slurm batch job on a node the scheduler chooses, cancelled on every path. */
export const slurmRuntime: ServerRuntime = {
  name: 'slurm',
  launches: true,
  async findVersion(server) {
    if (server.vllm_version) {
      // A pin is taken as it is: nothing runs.
      const detection = await detectVllmVersion({ executable: 'vllm', pinned: server.vllm_version });
      return { version: detection.version, source: detection.detail, detection };
    }
    return {
      version: null,
      source:
        'vLLM runs on a Slurm node, not asked from here: pin server.vllm_version to have flags follow it',
    };
  },
  describe(serve, ctx) {
    const { args, script } = planJob(serve.server, {
      runId: 'dry-run',
      runDir: '<run dir>',
      planDir: ctx.planDir,
      planName: ctx.planName,
      port: serve.server.port,
      reasoningFlags: serve.reasoningFlags,
    });
    return [
      `submit: sbatch ${args.join(' ')}`,
      `job script (${JOB_SCRIPT}):`,
      ...script
        .trimEnd()
        .split('\n')
        .map((line) => `  ${line}`),
    ];
  },
  hostNeeds: slurmHostNeeds,
  start: (serve, ctx) => startSlurmJob(serve.server, { ...ctx, reasoningFlags: serve.reasoningFlags }),
  leftovers: slurmLeftovers,
};
