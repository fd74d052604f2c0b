import { existsSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { UserError } from '../../errors.js';
import type { DockerSpec } from '../../plan/docker-schema.js';
import type { ServerSpec } from '../../plan/schema.js';
import { buildContainerCreateOptions, describeContainer, planDockerMounts } from './options.js';

/** The address to publish on: Docker wants an IP, plans may say localhost. */
export function publishAddress(host: string): string {
  return host === 'localhost' ? '127.0.0.1' : host;
}

export interface DryRunContext {
  planDir: string;
  planName: string;
  /** The run id the container name would carry. */
  runId: string;
  reasoningFlags?: string[];
}

/**
 * `plan --dry-run` for runtime docker: the container evalrig would create, as a `docker run` command with
 * secrets masked. Mounts are resolved as for a real start (which paths exist here); nothing is contacted.
 */
export function describeDockerServer(server: ServerSpec, ctx: DryRunContext): string {
  const docker = requireDockerSpec(server);
  const { mounts, modelInContainer } = planDockerMounts(server, docker, {
    planDir: ctx.planDir,
    homeDir: homedir(),
    pathExists: existsSync,
  });
  // port auto: Docker's own choice (-p 127.0.0.1::8000) reads right; with host networking vLLM needs a number.
  const autoPort = docker.network === 'host' ? docker.container_port : undefined;
  const create = buildContainerCreateOptions(server, docker, {
    runId: ctx.runId,
    planName: ctx.planName,
    ownerPid: process.pid,
    ownerHost: hostname(),
    hostIp: publishAddress(server.host),
    hostPort: server.port === 'auto' ? autoPort : server.port,
    reasoningFlags: ctx.reasoningFlags,
    modelInContainer,
    mounts,
  });
  return describeContainer(create);
}

export function requireDockerSpec(server: ServerSpec): DockerSpec {
  if (!server.docker) {
    throw new UserError('evalrig: runtime docker needs a server.docker section with at least `image`.');
  }
  return server.docker;
}
