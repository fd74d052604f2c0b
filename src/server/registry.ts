import { UserError } from '../errors.js';
import type { ServerSpec } from '../plan/schema.js';
import { dockerRuntime } from './docker/runtime.js';
import { externalRuntime } from './external/runtime.js';
import { localRuntime } from './local/runtime.js';
import type { ServerRuntime } from './runtime.js';
import { slurmRuntime } from './slurm/runtime.js';

/** Every runtime, by the name `server.runtime` gives it. A new runtime is one more entry here. */
const RUNTIMES: Record<ServerSpec['runtime'], ServerRuntime> = {
  local: localRuntime,
  docker: dockerRuntime,
  external: externalRuntime,
  slurm: slurmRuntime,
};

export function runtimeFor(server: Pick<ServerSpec, 'runtime'>): ServerRuntime {
  const runtime = RUNTIMES[server.runtime] as ServerRuntime | undefined;
  if (!runtime) throw new UserError(`unknown server.runtime "${server.runtime}"`);
  return runtime;
}

export function allRuntimes(): ServerRuntime[] {
  return Object.values(RUNTIMES);
}
