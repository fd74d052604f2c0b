import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { PlanSchema, type ServerSpec } from '../../../../src/plan/schema.js';
import {
  buildSbatchArgs,
  jobComment,
  parallelLayout,
  parseJobComment,
  renderJobScript,
  type JobInput,
} from '../../../../src/server/slurm/job-script.js';
import { judgeJob, parseQueue } from '../../../../src/server/slurm/leftovers.js';
import { firstNode, parseExitCode, parseJobStatus } from '../../../../src/server/slurm/scheduler.js';

function server(overrides: Record<string, unknown> = {}, slurm: Record<string, unknown> = {}): ServerSpec {
  return PlanSchema.parse({
    name: 'p',
    server: { runtime: 'slurm', model: 'Qwen/Qwen3-8B', api_key: 'sk-very-secret-key', slurm, ...overrides },
    evals: [{ name: 'e', backend: 'native', dataset: 'iquiz', dataset_path: 'd' }],
  }).server;
}

const INPUT: JobInput = {
  runId: 'r1',
  planName: 'p',
  ownerPid: 42,
  ownerHost: 'login1',
  port: 23456,
  executable: '/opt/vllm env/bin/vllm',
  outputPattern: '/runs/r1/slurm-%j.log',
  workDir: '/runs/r1',
};

describe('job script', () => {
  it('execs vllm serve on every interface, with setup lines before it and no key in it', () => {
    const spec = server(
      { served_model_name: "it's" },
      { setup: ['module load cuda/12.4', 'source ~/venv/bin/activate'] },
    );
    const script = renderJobScript(spec, spec.slurm!, INPUT);
    const lines = script.trimEnd().split('\n');
    expect(lines[0]).toBe('#!/bin/bash');
    expect(lines.at(-1)).toBe(
      "exec '/opt/vllm env/bin/vllm' serve Qwen/Qwen3-8B --host 0.0.0.0 --port 23456 --served-model-name 'it'\\''s'",
    );
    expect(lines.indexOf('module load cuda/12.4')).toBeLessThan(lines.length - 1);
    expect(script).not.toContain('sk-very-secret-key');
    expect(script).not.toContain('--api-key');
  });
});

describe('sbatch arguments', () => {
  it('renders every option of server.slurm, the script last, and never the key', () => {
    const spec = server(
      {},
      {
        partition: 'gpu',
        account: 'lab',
        qos: 'high',
        time: '2:00:00',
        gpus: 2,
        cpus_per_task: 16,
        mem: '64G',
        constraint: 'a100',
        extra_sbatch_args: ['--exclusive'],
      },
    );
    const args = buildSbatchArgs(spec.slurm!, INPUT, '/runs/r1/slurm-job.sh');
    expect(args).toEqual([
      '--parsable',
      '--job-name=evalrig-r1',
      '--comment=evalrig;owner=login1:42;run=r1;plan=p',
      '--nodes=1',
      '--ntasks-per-node=1',
      '--gres=gpu:2',
      '--partition=gpu',
      '--account=lab',
      '--qos=high',
      '--time=2:00:00',
      '--cpus-per-task=16',
      '--mem=64G',
      '--constraint=a100',
      '--output=/runs/r1/slurm-%j.log',
      '--chdir=/runs/r1',
      '--export=ALL',
      '--exclusive',
      '/runs/r1/slurm-job.sh',
    ]);
    expect(args.join(' ')).not.toContain('sk-very-secret-key');
  });

  it('asks for GPUs with --gpus-per-node when told, and for none with gpus 0', () => {
    expect(buildSbatchArgs(server({}, { gpus: 4, gpu_request: 'gpus' }).slurm!, INPUT, 's')).toContain(
      '--gpus-per-node=4',
    );
    expect(buildSbatchArgs(server({}, { gpus: 0 }).slurm!, INPUT, 's').join(' ')).not.toMatch(/gres|gpus/);
  });

  it('refuses option values that sbatch would read as options, and several nodes without GPUs', () => {
    expect(() => server({}, { partition: '--wrap=x' })).toThrow(/sbatch would read it as an option/);
    expect(() => server({}, { nodes: 2, gpus: 0 })).toThrow(/nodes > 1 needs gpus ≥ 1 per node/);
    expect(buildSbatchArgs(server({}, { nodes: 2, gpus: 8 }).slurm!, INPUT, 's')).toContain('--nodes=2');
  });
});

describe('queue output', () => {
  it('reads squeue, scontrol and node lists', () => {
    expect(parseJobStatus('RUNNING|vm|None\n')).toEqual({ state: 'RUNNING', nodes: 'vm', reason: 'None' });
    expect(parseJobStatus('')).toBeNull();
    expect(parseExitCode('JobId=1 JobState=CANCELLED ExitCode=0:15 RunTime=1')).toEqual({
      code: null,
      signal: 'SIGTERM',
    });
    expect(parseExitCode('JobState=FAILED ExitCode=127:0')).toEqual({ code: 127, signal: null });
    expect(firstNode('gpu[01-04]')).toBe('gpu01');
    expect(firstNode('a,b')).toBe('a');
  });

  it('round-trips the owner comment and judges jobs by it', () => {
    expect(parseJobComment(jobComment(INPUT))).toEqual({ host: 'login1', pid: 42, runId: 'r1', plan: 'p' });
    const [job] = parseQueue(`7|evalrig-r1|RUNNING|2026-01-01T10:00:00|${jobComment(INPUT)}\n`);
    const submitted = job!.submittedAt.getTime();
    expect(judgeJob(job!, { host: 'login1', processStartedAt: () => null })?.verdict).toBe('orphan');
    expect(
      judgeJob(job!, { host: 'login1', processStartedAt: () => new Date(submitted - 1000) })?.verdict,
    ).toBe('owned');
    expect(
      judgeJob(job!, { host: 'login1', processStartedAt: () => new Date(submitted + 60_000) })?.verdict,
    ).toBe('orphan');
    expect(judgeJob(job!, { host: 'login2', processStartedAt: () => null })?.verdict).toBe('foreign');
    expect(
      judgeJob({ ...job!, name: 'someone-else' }, { host: 'login1', processStartedAt: () => null }),
    ).toBeNull();
  });
});

describe('a multi-node job', () => {
  const twoNodes = (overrides: Record<string, unknown> = {}) => server(overrides, { nodes: 2, gpus: 8 });

  it('builds a Ray cluster over the nodes, then serves from the first with Ray as the executor', async () => {
    const spec = twoNodes();
    const script = renderJobScript(spec, spec.slurm!, INPUT);
    const lines = script.trimEnd().split('\n');
    const head = lines.findIndex((line) => /ray start --block --num-gpus=8 --head/.test(line));
    const worker = lines.findIndex((line) =>
      /ray start --block --num-gpus=8 --address="\$RAY_ADDRESS"/.test(line),
    );
    expect(lines[head]).toMatch(
      /^srun --overlap --nodes=1 --ntasks=1 --gres=gpu:8 -w "\$head" .*--port=6379 &$/,
    );
    expect(lines[worker - 1]).toBe('for worker in "${nodes[@]:1}"; do');
    expect(lines[worker]).toMatch(/-w "\$worker" /);
    expect(script).toContain('[ "$joined" -ge 2 ] && break');
    expect(head).toBeGreaterThan(0);
    expect(worker).toBeGreaterThan(head);
    expect(lines.at(-1)).toMatch(
      /^exec .* --tensor-parallel-size 8 --pipeline-parallel-size 2 --distributed-executor-backend ray$/,
    );
    // bash reads it: no syntax error in what would run on the cluster.
    const check = await execa('bash', ['-n'], { input: script, reject: false });
    expect(check.stderr).toBe('');
    expect(check.exitCode).toBe(0);
  });

  it('keeps a one-node job free of Ray', () => {
    const spec = server({}, { gpus: 8 });
    const script = renderJobScript(spec, spec.slurm!, INPUT);
    expect(script).not.toMatch(/ray|srun|tensor-parallel/);
  });

  it("uses the plan's layout and executor when given", () => {
    const spec = twoNodes({ tensor_parallel_size: 16, extra_args: ['--distributed-executor-backend=ray'] });
    expect(parallelLayout(spec, spec.slurm!)).toEqual({ tensor: 16, pipeline: 1 });
    const script = renderJobScript(spec, spec.slurm!, INPUT);
    expect(script).toMatch(/--tensor-parallel-size 16 --pipeline-parallel-size 1 /);
    expect(script.match(/distributed-executor-backend/g)).toHaveLength(1);
  });
});
