import { describe, expect, it } from 'vitest';
import { PlanSchema } from '../../../src/plan/schema.js';
import { slurmParallelLayout } from '../../../src/plan/slurm-schema.js';

function slurmPlan(server: Record<string, unknown>, slurm: Record<string, unknown>) {
  return PlanSchema.safeParse({
    name: 'p',
    server: { runtime: 'slurm', model: 'm', slurm, ...server },
    evals: [{ name: 'e', backend: 'native', dataset: 'iquiz', dataset_path: 'd' }],
  });
}

describe('the parallel layout of a multi-node job', () => {
  const job = { nodes: 2, gpus: 8 };

  it('is tensor parallel within a node and pipeline parallel across nodes unless the plan chose', () => {
    expect(slurmParallelLayout({}, job)).toEqual({ tensor: 8, pipeline: 2 });
    expect(slurmParallelLayout({ tensor_parallel_size: 16 }, job)).toEqual({ tensor: 16, pipeline: 1 });
    expect(slurmParallelLayout({ pipeline_parallel_size: 4 }, job)).toEqual({ tensor: 4, pipeline: 4 });
    expect(slurmParallelLayout({ tensor_parallel_size: 4, pipeline_parallel_size: 4 }, job)).toEqual({
      tensor: 4,
      pipeline: 4,
    });
  });

  it('is refused, with the numbers that would fit, when it leaves GPUs idle or does not divide them', () => {
    expect(slurmParallelLayout({ tensor_parallel_size: 4, pipeline_parallel_size: 2 }, job)).toEqual({
      problem:
        '2 nodes × 8 GPUs = 16 GPUs, but tensor_parallel_size × pipeline_parallel_size is 4 × 2: make their ' +
        'product 16 (usually tensor_parallel_size: 8, pipeline_parallel_size: 2), or change slurm.nodes or slurm.gpus',
    });
    expect(slurmParallelLayout({ tensor_parallel_size: 3 }, job)).toHaveProperty('problem');
  });
});

describe('server.slurm in a plan', () => {
  it('takes several nodes with GPUs, and refuses them without GPUs or with a layout that does not fit', () => {
    expect(slurmPlan({}, { nodes: 4, gpus: 8 }).success).toBe(true);
    const noGpus = slurmPlan({}, { nodes: 2, gpus: 0 });
    expect(noGpus.error?.issues[0]).toMatchObject({ path: ['server', 'slurm', 'gpus'] });
    expect(slurmPlan({ tensor_parallel_size: 4 }, { nodes: 2, gpus: 8 }).success).toBe(true);
    const uneven = slurmPlan({ tensor_parallel_size: 3 }, { nodes: 2, gpus: 8 });
    expect(uneven.error?.issues[0]).toMatchObject({ path: ['server', 'slurm', 'nodes'] });
    expect(uneven.error?.issues[0]?.message).toContain('make their product 16');
  });
});

describe('extra_sbatch_args', () => {
  it('passes sbatch options through, but not those evalrig finds and follows its job by', () => {
    expect(
      slurmPlan({}, { extra_sbatch_args: ['--exclusive', '--exclude=gpu07', '-x', 'gpu08'] }).success,
    ).toBe(true);
    for (const [arg, option] of [
      ['--comment=mine', '--comment'],
      ['--job-name', '--job-name'],
      ['-o/tmp/x.log', '-o'],
      ['--export=NONE', '--export'],
      ['-N', '-N'],
    ] as const) {
      const result = slurmPlan({}, { extra_sbatch_args: [arg] });
      expect(result.error?.issues[0]?.message, arg).toMatch(
        new RegExp(`^${option} is set by evalrig: it finds`),
      );
    }
  });
});
