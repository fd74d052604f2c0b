import { z } from 'zod';
import { DURATION_FORMS, DurationSchema } from './duration.js';
import type { ServerProblem } from './server-checks.js';

/**
 * `server.slurm`: how `runtime: slurm` asks the cluster's scheduler for a node to serve on. Kept apart from
 * schema.ts so the Slurm runtime, its job script and its docs share one definition.
 */

/** A value that becomes one sbatch option's argument: a leading `-` would be read as another option. */
const optionValue = z
  .string()
  .min(1)
  .refine((text) => !text.startsWith('-'), 'may not start with "-" (sbatch would read it as an option)');

/** The sbatch options evalrig sets itself and depends on: a plan may not override them. */
const OWN_OPTIONS = [
  '--parsable',
  '--job-name',
  '-J',
  '--comment',
  '--output',
  '-o',
  '--error',
  '-e',
  '--chdir',
  '-D',
  '--export',
  '--nodes',
  '-N',
  '--ntasks-per-node',
  '--wrap',
];

/** Which of evalrig's own options an argument sets: `--output=x`, `--output`, `-o` or `-ox`. */
function ownOption(arg: string): string | undefined {
  return OWN_OPTIONS.find((option) =>
    option.startsWith('--') ? arg === option || arg.startsWith(`${option}=`) : arg.startsWith(option),
  );
}

export const SlurmSpecSchema = z
  .strictObject({
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
      .int()
      .positive()
      .default(1)
      .describe(
        'Nodes of the job. More than one serves the model over a Ray cluster across them, as vLLM documents ' +
          'for multi-node serving: tensor parallel within a node, pipeline parallel across nodes unless the plan ' +
          'sets tensor_parallel_size and pipeline_parallel_size (their product must be nodes × gpus)',
      ),
    constraint: optionValue.optional().describe('sbatch --constraint, node features such as a100'),
    extra_sbatch_args: z
      .array(
        z.string().refine((arg) => ownOption(arg) === undefined, {
          error: (issue) =>
            `${ownOption(String(issue.input))} is set by evalrig: it finds, follows and cleans up its job by ` +
            "the job's name, comment, output and environment; use the server.slurm keys for nodes and tasks",
        }),
      )
      .default([])
      .describe(
        'More sbatch options as they are, e.g. ["--exclusive"]; not those evalrig sets itself (--job-name, ' +
          '--comment, --output, --chdir, --export, --nodes, --parsable)',
      ),
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
  })
  // Ray places vLLM's workers on the GPUs of every node: a multi-node job without GPUs has nothing to serve with.
  .refine((slurm) => slurm.nodes === 1 || slurm.gpus > 0, {
    message: 'nodes > 1 needs gpus ≥ 1 per node: vLLM spreads the model over the GPUs of every node',
    path: ['gpus'],
  });

export type SlurmSpec = z.infer<typeof SlurmSpecSchema>;

/** The parallel sizes a plan may set for its server. */
export interface ParallelSizes {
  tensor_parallel_size?: number | undefined;
  pipeline_parallel_size?: number | undefined;
}

/**
 * How a multi-node job splits the model: as vLLM's distributed-serving guide advises, tensor parallel over the GPUs
 * of a node and pipeline parallel over the nodes, unless the plan chose; every GPU of the job is used. A layout
 * that does not fill the job's GPUs is a problem, in words.
 */
export function slurmParallelLayout(
  sizes: ParallelSizes,
  slurm: Pick<SlurmSpec, 'nodes' | 'gpus'>,
): { tensor: number; pipeline: number } | { problem: string } {
  const gpus = slurm.nodes * slurm.gpus;
  const tensor =
    sizes.tensor_parallel_size ??
    (sizes.pipeline_parallel_size ? gpus / sizes.pipeline_parallel_size : slurm.gpus);
  const pipeline = sizes.pipeline_parallel_size ?? gpus / tensor;
  if (Number.isInteger(tensor) && Number.isInteger(pipeline) && tensor * pipeline === gpus)
    return { tensor, pipeline };
  return {
    problem:
      `${slurm.nodes} nodes × ${slurm.gpus} GPUs = ${gpus} GPUs, but tensor_parallel_size × ` +
      `pipeline_parallel_size is ${sizes.tensor_parallel_size ?? '?'} × ${sizes.pipeline_parallel_size ?? '?'}: ` +
      `make their product ${gpus} (usually tensor_parallel_size: ${slurm.gpus}, pipeline_parallel_size: ` +
      `${slurm.nodes}), or change slurm.nodes or slurm.gpus`,
  };
}

/** What `runtime: slurm` needs of `server`: a model, and parallel sizes that fill a multi-node job's GPUs. */
export function checkSlurmServer(
  server: ParallelSizes & {
    model?: string | undefined;
    slurm?: Pick<SlurmSpec, 'nodes' | 'gpus'> | undefined;
  },
): ServerProblem[] {
  const problems: ServerProblem[] = [];
  if (!server.model)
    problems.push({
      path: ['model'],
      message: 'runtime slurm needs model (a path on the cluster or a hub id)',
    });
  const layout = server.slurm && server.slurm.nodes > 1 ? slurmParallelLayout(server, server.slurm) : null;
  if (layout && 'problem' in layout) problems.push({ path: ['slurm', 'nodes'], message: layout.problem });
  return problems;
}
