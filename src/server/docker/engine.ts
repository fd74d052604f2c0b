import { existsSync } from 'node:fs';

// Kept apart from the client: the registry, `validate` and the dry run ask these without loading dockerode.

/** The socket Docker's clients use when DOCKER_HOST is not set. */
const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** Where `new Docker()` connects: DOCKER_HOST, else the default socket. */
export function engineAddress(): string {
  return process.env.DOCKER_HOST || `unix://${DEFAULT_DOCKER_SOCKET}`;
}

/** True when an engine may be configured at all: DOCKER_HOST set, or the default socket exists. */
export function engineConfigured(): boolean {
  return Boolean(process.env.DOCKER_HOST) || existsSync(DEFAULT_DOCKER_SOCKET);
}
