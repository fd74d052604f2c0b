/**
 * What a runtime needs of `server` beyond its own section's shape, checked once the whole section is read. Each
 * runtime's check lives beside its section's schema (docker-schema.ts, slurm-schema.ts); the runtimes without a
 * section of their own have theirs here.
 */

/** A problem with the server settings, at its path under `server`. */
export interface ServerProblem {
  path: string[];
  message: string;
}

export function checkLocalServer(server: { model?: string | undefined }): ServerProblem[] {
  return server.model ? [] : [{ path: ['model'], message: 'runtime local needs model (a path or a hub id)' }];
}

export function checkExternalServer(server: { base_url?: string | undefined }): ServerProblem[] {
  return server.base_url ? [] : [{ path: ['base_url'], message: 'runtime external needs base_url' }];
}
