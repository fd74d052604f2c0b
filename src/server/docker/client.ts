import { ExitCode, UserError } from '../../errors.js';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import Docker from 'dockerode';
import { abortable } from '../../util/abortable.js';
import { engineAddress } from './engine.js';

/** What the Docker Engine API puts on a failed request (docker-modem adds statusCode and the JSON body). */
interface EngineError {
  statusCode?: number;
  json?: { message?: string } | null;
  code?: string;
  message: string;
}

function asEngineError(error: unknown): EngineError {
  if (error instanceof Error) return error as Error & EngineError;
  return { message: String(error) };
}

/** The engine's own words for a failure ("No such image: …"), else the client error's message. */
export function dockerErrorMessage(error: unknown): string {
  const engineError = asEngineError(error);
  const message = engineError.json?.message ?? engineError.message;
  return message.replace(/^\(HTTP code \d+\) [a-z ]+ - /, '').trim();
}

/** The HTTP status of a failed Engine API request, if there was one. */
export function dockerStatus(error: unknown): number | undefined {
  return asEngineError(error).statusCode;
}

/** The address a client talks to, for messages: its socket, or host and port. */
export function clientAddress(client: Docker): string {
  // @types/dockerode leaves `modem` untyped; these are docker-modem's connection fields.
  const modem = client.modem as { socketPath?: unknown; host?: unknown; port?: unknown; protocol?: unknown };
  if (typeof modem.socketPath === 'string') return `unix://${modem.socketPath}`;
  if (typeof modem.host === 'string')
    return `${String(modem.protocol ?? 'http')}://${modem.host}:${String(modem.port ?? '')}`;
  return engineAddress();
}

/** Why the engine at `address` cannot be reached, and what to do about it. */
export function engineUnreachableMessage(error: unknown, address = engineAddress()): string {
  const code = asEngineError(error).code;
  const lines = [`evalrig: cannot reach the Docker engine at ${address} (${dockerErrorMessage(error)}).`];
  if (code === 'EACCES') {
    lines.push(
      '  Permission denied on the socket: add yourself to the docker group (then log in again), or run as root.',
    );
  } else {
    lines.push(
      '  Start the engine (`sudo systemctl start docker`), or point DOCKER_HOST at a running one',
      '  (e.g. DOCKER_HOST=unix:///tmp/evalrig-ci-docker/docker.sock after `bash .ci/docker-engine.sh start`).',
      '  No Docker on this machine? Use `runtime: local` with vLLM installed, or `runtime: external` with a URL.',
    );
  }
  return lines.join('\n');
}

/** How long the engine may take to answer a ping: a hung engine must not hang the start. */
const PING_TIMEOUT_MS = 10_000;

/** A client that answered a ping; a UserError that says which engine and what to do when none answers. */
export async function connectDocker(client: Docker = new Docker()): Promise<Docker> {
  try {
    await abortable(client.ping() as Promise<unknown>, AbortSignal.timeout(PING_TIMEOUT_MS));
    return client;
  } catch (error) {
    throw new UserError(engineUnreachableMessage(error, clientAddress(client)), ExitCode.runFailed);
  }
}

/**
 * Removes a container from an 'exit' handler, where nothing asynchronous runs any more: through a short-lived Node
 * process that uses the same client library (and so the same DOCKER_HOST).
 */
export function removeContainerSync(id: string): void {
  const dockerode = pathToFileURL(createRequire(import.meta.url).resolve('dockerode')).href;
  const script =
    `import Docker from ${JSON.stringify(dockerode)};` +
    'await new Docker().getContainer(process.argv[1]).remove({ force: true, v: true }).catch(() => {});';
  spawnSync(process.execPath, ['--input-type=module', '-e', script, id], {
    stdio: 'ignore',
    timeout: 20_000,
  });
}
