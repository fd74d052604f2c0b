import { z } from 'zod';
import { DURATION_FORMS, DurationSchema } from './duration.js';

/**
 * `server.slurm`: how `runtime: slurm` asks the cluster's scheduler for a node to serve on. Kept apart from
 * schema.ts so the Slurm runtime, its job script and its docs share one definition.
 */

/** A value that becomes one sbatch option's argument: a leading `-` would be read as another option. */
const optionValue = z
  .string()
  .min(1)
  .refine((text) => !text.startsWith('-'), 'may not start with "-" (sbatch would read it as an option)');

export const SlurmSpecSchema = z.strictObject({
  partition: optionValue.optional().describe('sbatch --partition; default: the cluster default partition'),
  account: optionValue.optional().describe('sbatch --account'),
  qos: optionValue.optional().describe('sbatch --qos'),
  time: optionValue
    .optional()
    .describe('sbatch --time, the job time limit in Slurm notation, e.g. 30, 2:00:00 or 1-00:00:00'),
  gpus: z.int().min(0).default(1).describe('GPUs per node for the server; 0 requests none'),
  gpu_request: z
    .enum(['gres', 'gpus'])
    .default('gres')
    .describe('How the GPUs are asked for: --gres=gpu:N (every Slurm version) or --gpus-per-node=N'),
  cpus_per_task: z.int().positive().optional().describe('sbatch --cpus-per-task'),
  mem: optionValue.optional().describe('sbatch --mem, e.g. 64G'),
  nodes: z
    .literal(1)
    .default(1)
    .describe('Nodes of the job; one node for now (multi-node serving is not supported yet)'),
  constraint: optionValue.optional().describe('sbatch --constraint, node features such as a100'),
  extra_sbatch_args: z
    .array(z.string())
    .default([])
    .describe('More sbatch options as they are, e.g. ["--exclusive"]'),
  setup: z
    .array(z.string())
    .default([])
    .describe(
      'Shell lines the job runs before vLLM, as written: module loads, activating a virtual environment. ' +
        'Never put secrets here: the job script is written to the run directory',
    ),
  queue_timeout: DurationSchema.prefault(3600).describe(
    `How long the job may wait in the queue before evalrig cancels it. ${DURATION_FORMS}`,
  ),
});

export type SlurmSpec = z.infer<typeof SlurmSpecSchema>;
