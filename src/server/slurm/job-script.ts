import { UserError } from '../../errors.js';
import type { ServerSpec } from '../../plan/schema.js';
import { slurmParallelLayout, type SlurmSpec } from '../../plan/slurm-schema.js';
import { buildServeArgv } from '../../vllm/argv.js';
import { shellQuote } from '../../util/shell-quote.js';

/**
 * Plan → the sbatch command line and the job script, with no I/O: the run's paths, its id and the chosen port come
 * in as input, so the whole mapping is unit-tested.
 */

/** vLLM binds every interface of its node: evalrig reaches it over the network, from where it runs. */
export const JOB_BIND_HOST = '0.0.0.0';

/** The job's name: `cleanup` and the exit guard find evalrig's jobs by it. */
export const JOB_NAME_PREFIX = 'evalrig-';

export interface JobInput {
  runId: string;
  planName: string;
  /** The evalrig process that owns the job, and its host: `cleanup` cancels the job once that process is gone. */
  ownerPid: number;
  ownerHost: string;
  /** The port vLLM listens on, on its node; `auto` only for --dry-run, before one is chosen. */
  port: number | 'auto';
  /** The executable as the job runs it (resolved against the plan folder). */
  executable: string;
  /** The job's output file; `%j` becomes the job id. */
  outputPattern: string;
  /** The job's working folder. */
  workDir: string;
  reasoningFlags?: string[];
}

/** What the job's comment carries: who owns it, so that `cleanup` can judge it from the queue alone. */
export function jobComment(input: Pick<JobInput, 'runId' | 'planName' | 'ownerPid' | 'ownerHost'>): string {
  return `evalrig;owner=${input.ownerHost}:${input.ownerPid};run=${input.runId};plan=${input.planName}`;
}

export interface JobOwner {
  host: string;
  pid: number;
  runId: string;
  plan: string;
}

/** The owner a job's comment names; null for a comment evalrig did not write. */
export function parseJobComment(comment: string): JobOwner | null {
  const fields = comment.split(';');
  if (fields[0] !== 'evalrig') return null;
  const values = new Map(
    fields.slice(1).map((field) => [field.slice(0, field.indexOf('=')), field.slice(field.indexOf('=') + 1)]),
  );
  const owner = /^(.*):(\d+)$/.exec(values.get('owner') ?? '');
  if (!owner?.[1] || !owner[2]) return null;
  return {
    host: owner[1],
    pid: Number(owner[2]),
    runId: values.get('run') ?? '',
    plan: values.get('plan') ?? '',
  };
}

/** The GPU request in the form the plan chose; none for `gpus: 0`. */
function gpuArgs(slurm: SlurmSpec): string[] {
  if (slurm.gpus === 0) return [];
  return slurm.gpu_request === 'gres' ? [`--gres=gpu:${slurm.gpus}`] : [`--gpus-per-node=${slurm.gpus}`];
}

/** sbatch's options, the script path last. `--export=ALL`: the job gets the key through the environment. */
export function buildSbatchArgs(slurm: SlurmSpec, input: JobInput, scriptPath: string): string[] {
  const optional: [string, string | number | undefined][] = [
    ['--partition', slurm.partition],
    ['--account', slurm.account],
    ['--qos', slurm.qos],
    ['--time', slurm.time],
    ['--cpus-per-task', slurm.cpus_per_task],
    ['--mem', slurm.mem],
    ['--constraint', slurm.constraint],
  ];
  return [
    '--parsable',
    `--job-name=${JOB_NAME_PREFIX}${input.runId}`,
    `--comment=${jobComment(input)}`,
    `--nodes=${slurm.nodes}`,
    '--ntasks-per-node=1',
    ...gpuArgs(slurm),
    ...optional.flatMap(([flag, value]) => (value === undefined ? [] : [`${flag}=${value}`])),
    `--output=${input.outputPattern}`,
    `--chdir=${input.workDir}`,
    '--export=ALL',
    ...slurm.extra_sbatch_args,
    scriptPath,
  ];
}

/** The port of the Ray head on the first node, vLLM's documented default. */
export const RAY_PORT = 6379;
/** How long the job waits for every node to join the Ray cluster before it gives up. */
const RAY_JOIN_TIMEOUT_S = 300;

/** The layout a multi-node job serves with; the plan's validation has refused one that does not fit. */
export function parallelLayout(server: ServerSpec, slurm: SlurmSpec): { tensor: number; pipeline: number } {
  const layout = slurmParallelLayout(server, slurm);
  if ('problem' in layout) throw new UserError(`evalrig: server.slurm: ${layout.problem}.`);
  return layout;
}

/** The server as a multi-node job serves it: the layout filled in, and Ray as vLLM's executor. */
function multiNodeServer(server: ServerSpec, slurm: SlurmSpec): ServerSpec {
  const { tensor, pipeline } = parallelLayout(server, slurm);
  const backendChosen = server.extra_args.some((arg) => arg.startsWith('--distributed-executor-backend'));
  return {
    ...server,
    tensor_parallel_size: tensor,
    pipeline_parallel_size: pipeline,
    extra_args: backendChosen
      ? server.extra_args
      : [...server.extra_args, '--distributed-executor-backend', 'ray'],
  };
}

/** The `vllm serve` argv the job runs, binding every interface of its node. */
export function jobServeArgv(server: ServerSpec, input: JobInput): string[] {
  const argv = buildServeArgv(server, {
    port: input.port === 'auto' ? 0 : input.port,
    host: JOB_BIND_HOST,
    model: server.model ?? '',
    reasoningFlags: input.reasoningFlags,
  });
  return argv.map((arg, i) => (argv[i - 1] === '--port' && input.port === 'auto' ? '<auto>' : arg));
}

/**
 * The job script. It `exec`s vLLM, so that vLLM itself is the job's task and gets Slurm's SIGTERM: a wrapping
 * shell would die first, and Slurm would then SIGKILL the server at once. The environment (the API key as
 * VLLM_API_KEY, `server.env`) comes from the submitting process through --export=ALL, never from this text.
 */
export function renderJobScript(server: ServerSpec, slurm: SlurmSpec, input: JobInput): string {
  const served = slurm.nodes > 1 ? multiNodeServer(server, slurm) : server;
  const argv = [input.executable, ...jobServeArgv(served, input)];
  return [
    '#!/bin/bash',
    `# Written by evalrig for run ${input.runId} of plan ${input.planName}.`,
    '# The API key and server.env arrive through the environment of the submitting process.',
    'set -eo pipefail',
    'export PYTHONUNBUFFERED=1',
    'echo "evalrig: job ${SLURM_JOB_ID:-?} on $(hostname) serving on port ' + String(input.port) + '"',
    ...slurm.setup,
    ...(slurm.nodes > 1 ? rayClusterLines(slurm) : []),
    `exec ${argv.map(shellQuote).join(' ')}`,
    '',
  ].join('\n');
}

/**
 * A Ray cluster over the job's nodes, as vLLM's multi-node serving recipe builds one: the head on the first node
 * (where this script, and so vLLM, runs), a worker on each other node, each a job step that blocks; then a wait
 * until every node has joined, since vLLM places its workers once, when it starts. `--overlap`: the steps share
 * the nodes with this script and with each other.
 */
function rayClusterLines(slurm: SlurmSpec): string[] {
  const step = ['srun', '--overlap', '--nodes=1', '--ntasks=1', ...gpuArgs(slurm)].join(' ');
  const ray = `ray start --block --num-gpus=${slurm.gpus}`;
  return [
    '# Multi-node serving: a Ray cluster over the nodes of the job, vLLM on the first.',
    'mapfile -t nodes < <(scontrol show hostnames "$SLURM_JOB_NODELIST")',
    'head=${nodes[0]}',
    `head_ip=$(${step} -w "$head" hostname --ip-address | awk '{print $1}')`,
    `export RAY_ADDRESS="$head_ip:${RAY_PORT}"`,
    `${step} -w "$head" ${ray} --head --node-ip-address="$head_ip" --port=${RAY_PORT} &`,
    'for worker in "${nodes[@]:1}"; do',
    `  ${step} -w "$worker" ${ray} --address="$RAY_ADDRESS" &`,
    'done',
    'joined=0',
    `for _ in $(seq 1 ${RAY_JOIN_TIMEOUT_S / 5}); do`,
    `  joined=$(python3 -c 'import ray; ray.init(); print(sum(n["Alive"] for n in ray.nodes()))' 2>/dev/null || echo 0)`,
    `  [ "$joined" -ge ${slurm.nodes} ] && break`,
    '  sleep 5',
    'done',
    `if [ "$joined" -lt ${slurm.nodes} ]; then`,
    `  echo "evalrig: only $joined of ${slurm.nodes} nodes joined the Ray cluster within ${RAY_JOIN_TIMEOUT_S} s" >&2`,
    '  exit 1',
    'fi',
  ];
}
