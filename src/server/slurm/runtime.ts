import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { detectVllmVersion } from '../../vllm/detect.js';
import type { LeftoverSource, ServerRuntime } from '../runtime.js';
import { slurmHostNeeds } from './host-needs.js';
import { JOB_SCRIPT, planJob } from './job-plan.js';
import { JOB_BIND_HOST } from './job-script.js';

/** Whether a command is on PATH: no squeue, no queue to search. */
function onPath(command: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** The queue is read through the scheduler's tools, which load only when a search is made. */
const slurmLeftovers: LeftoverSource = {
  label: 'evalrig jobs in the Slurm queue',
  available: () => onPath('squeue'),
  find: async () => (await import('./leftovers.js')).findLeftoverJobs(),
};

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
  listensOn: () => ({
    host: JOB_BIND_HOST,
    why: 'the job runs on a node the scheduler picks, and evalrig reaches it over the network',
  }),
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
  async preload() {
    await import('./start.js');
  },
  async start(serve, ctx) {
    const { startSlurmJob } = await import('./start.js');
    return startSlurmJob(serve.server, { ...ctx, reasoningFlags: serve.reasoningFlags });
  },
  leftovers: slurmLeftovers,
};
