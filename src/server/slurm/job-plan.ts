import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ServerSpec } from '../../plan/schema.js';
import { SlurmSpecSchema, type SlurmSpec } from '../../plan/slurm-schema.js';
import { resolveExecutable } from '../../util/executable.js';
import { buildSbatchArgs, renderJobScript, type JobInput } from './job-script.js';

// What a job would be, apart from submitting it: the dry run shows it without loading the scheduler's tools.

/** The job script's name in the run directory. */
export const JOB_SCRIPT = 'slurm-job.sh';

export function slurmSpec(server: ServerSpec): SlurmSpec {
  return server.slurm ?? SlurmSpecSchema.parse({});
}

export interface JobFiles {
  runId: string;
  runDir: string;
  planDir: string;
  planName: string;
  port: JobInput['port'];
  reasoningFlags?: string[];
}

/** What would be submitted: the job's input, its sbatch argv and its script, from the run's folder. */
export function planJob(
  server: ServerSpec,
  files: JobFiles,
): { input: JobInput; args: string[]; script: string } {
  const slurm = slurmSpec(server);
  const input: JobInput = {
    runId: files.runId,
    planName: files.planName,
    ownerPid: process.pid,
    ownerHost: hostname(),
    port: files.port,
    executable: resolveExecutable(server.executable, files.planDir),
    outputPattern: join(files.runDir, 'slurm-%j.log'),
    workDir: files.runDir,
    ...(files.reasoningFlags === undefined ? {} : { reasoningFlags: files.reasoningFlags }),
  };
  const scriptPath = join(files.runDir, JOB_SCRIPT);
  return {
    input,
    args: buildSbatchArgs(slurm, input, scriptPath),
    script: renderJobScript(server, slurm, input),
  };
}
