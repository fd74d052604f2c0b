import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { hostname } from 'node:os';
import { execa } from 'execa';
import { parseJobComment } from '../../src/server/slurm/job-script.js';
import { startCli, writeSimPlan } from '../e2e/cli-helpers.js';
import { skipLoudlyOrFailInCi } from '../skip.js';

/**
 * Shared set-up of the tests that need a real Slurm cluster. Where none answers, they skip with a loud banner; in
 * CI (CI set) they fail instead, never skip: .ci/run starts a one-node cluster with .ci/slurm.sh.
 */
export async function skipWithoutSlurm(suite: string): Promise<boolean> {
  const result = await execa('sinfo', ['-h', '-o', '%T'], { reject: false, timeout: 10_000 });
  const idle = result.exitCode === 0 && /idle|mix/.test(result.stdout);
  if (idle) return false;
  const reason =
    result.exitCode === 0
      ? `no idle node (${result.stdout.trim()})`
      : (result.stderr || (result.message ?? '')).trim();
  return skipLoudlyOrFailInCi(
    suite,
    `no Slurm cluster answers (${reason})`,
    'CI must run these tests: .ci/run starts one with .ci/slurm.sh.',
    'Start one with `bash .ci/slurm.sh start` (root).',
  );
}

/** The job's state as squeue reports it, ended jobs included; empty once Slurm forgot it. */
export async function jobState(jobId: string): Promise<string> {
  const result = await execa('squeue', ['-h', '-t', 'all', '-j', jobId, '-o', '%T'], { reject: false });
  return result.stdout.trim();
}

/** The evalrig processes this test file started: only their jobs are its to cancel. */
const owners = new Set<number>();

/** `evalrig ARGS` as startCli runs it, remembered as the owner of the jobs it submits. */
export function startSlurmCli(args: string[], env: Record<string, string> = {}): ReturnType<typeof startCli> {
  const child = startCli(args, env);
  if (child.pid !== undefined) owners.add(child.pid);
  return child;
}

/**
 * Cancels the jobs that this file's evalrig runs submitted and left (afterAll: nothing may remain). Jobs of other
 * test files, running at the same time in the same queue, are theirs: their comment names another owner.
 */
export async function cancelEvalrigJobs(): Promise<void> {
  const result = await execa('squeue', ['--me', '-h', '-o', '%i|%k'], { reject: false });
  const ids = result.stdout.split('\n').flatMap((line) => {
    const [id = '', ...comment] = line.split('|');
    const owner = parseJobComment(comment.join('|'));
    return owner && owner.host === hostname() && owners.has(owner.pid) ? [id] : [];
  });
  if (ids.length > 0) await execa('scancel', ids, { reject: false });
}

export interface SlurmPlanOptions {
  /** Simulator knobs over the fast defaults. */
  sim?: Record<string, string>;
  /** server.slurm.setup lines. */
  setup?: string[];
  executable?: string;
  startupTimeout?: number;
  /** One sample at a time, each taking over a second: the evaluation lasts about 50 s. */
  slow?: boolean;
  /** More server keys. */
  server?: Record<string, unknown>;
}

/** A plan whose server is the simulator, submitted as a Slurm job that asks for no GPU. */
export function slurmPlan(options: SlurmPlanOptions = {}): ReturnType<typeof writeSimPlan> {
  return writeSimPlan({
    server: {
      runtime: 'slurm',
      api_key: 'sk-slurm-test-secret',
      slurm: { gpus: 0, time: '10', queue_timeout: 60, setup: options.setup ?? [] },
      ...(options.executable === undefined ? {} : { executable: options.executable }),
      ...(options.startupTimeout === undefined ? {} : { startup_timeout: options.startupTimeout }),
      ...options.server,
    },
    sim: {
      ...(options.slow ? { VLLM_SIM_TTFT_MS: '1200', VLLM_SIM_TOKEN_LATENCY_MS: '10' } : {}),
      ...options.sim,
    },
    ...(options.slow ? { eval: { concurrency: 1 } } : {}),
  });
}

/** The id of the job a run submitted, from its output file's name. */
export function jobIdOf(runDir: string): string {
  const log = readdirSync(runDir).find((name) => /^slurm-\d+\.log$/.test(name));
  if (!log) throw new Error(`no job output in ${runDir}`);
  return /\d+/.exec(log)![0];
}

export function predictionsOf(file: string): { id: string; error?: unknown }[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { id: string; error?: unknown });
}

function findPredictions(dir: string): string | undefined {
  if (!existsSync(dir)) return undefined;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isFile() && entry.name === 'predictions.jsonl') return path;
    if (entry.isDirectory()) {
      const found = findPredictions(path);
      if (found) return found;
    }
  }
  return undefined;
}

/**
 * Waits until the run writing into `outDir` has `count` answered samples; the predictions file's path. Fails when
 * the run ends first (`run` settles).
 */
export async function untilPredictions(
  outDir: string,
  count: number,
  run: Promise<unknown>,
): Promise<string> {
  let ended = false;
  void run.then(() => (ended = true));
  for (;;) {
    const file = findPredictions(outDir);
    if (file && predictionsOf(file).filter((p) => !p.error).length >= count) return file;
    if (ended) throw new Error(`the run ended before ${count} samples were answered`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * Whether no live process works in the run directory: the job's processes do, as sbatch --chdir put them there.
 * Zombies do not count: PID 1 here reaps orphans only every few seconds.
 */
export function noProcessOf(runDir: string): Promise<boolean> {
  const live = readdirSync('/proc').filter((entry) => {
    if (!/^\d+$/.test(entry)) return false;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) !== runDir) return false;
      return readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
    } catch {
      return false; // Gone while we looked.
    }
  });
  return Promise.resolve(live.length === 0);
}

/** The processes of a running job, as its node's slurmd knows them. */
export async function jobPids(jobId: string): Promise<number[]> {
  const { stdout } = await execa('scontrol', ['listpids', jobId]);
  return stdout
    .split('\n')
    .slice(1)
    .map((line) => Number(line.trim().split(/\s+/)[0]))
    .filter((pid) => Number.isInteger(pid) && pid > 0);
}
