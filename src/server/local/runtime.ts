import { maskEnv } from '../../plan/secrets.js';
import { resolveExecutable } from '../../util/executable.js';
import { findFreePort, portIsFree } from '../../util/ports.js';
import { buildServeArgv, buildServerEnv } from '../../vllm/argv.js';
import { maskSecretFlags } from '../../plan/secrets.js';
import { detectVllmVersion } from '../../vllm/detect.js';
import type { ServePlan, ServerRuntime } from '../runtime.js';
import { localHostNeeds } from './host-needs.js';
import { localLeftovers } from './leftovers.js';

/** The `vllm serve` command line as --dry-run shows it (secrets masked; `<auto>` for a port chosen at start). */
export function displayServeArgv(serve: ServePlan, planDir: string): string[] {
  const { server } = serve;
  const argv = buildServeArgv(server, {
    port: server.port === 'auto' ? 0 : server.port,
    host: server.host,
    model: server.model ?? '',
    reasoningFlags: serve.reasoningFlags,
  }).map((arg, i, all) => (all[i - 1] === '--port' && server.port === 'auto' ? '<auto>' : arg));
  return [resolveExecutable(server.executable, planDir), ...maskSecretFlags(argv)];
}

/** `vllm serve` as a process of this host, in its own process group. */
export const localRuntime: ServerRuntime = {
  name: 'local',
  launches: true,
  async findVersion(server, ctx) {
    const detection = await detectVllmVersion({
      executable: resolveExecutable(server.executable, ctx.planDir),
      python: server.python,
      pinned: server.vllm_version,
      env: { ...process.env, ...buildServerEnv(server) },
      cwd: ctx.planDir,
      signal: ctx.signal,
    });
    return { version: detection.version, source: detection.detail, detection };
  },
  describe(serve, ctx) {
    const env = Object.entries(maskEnv(buildServerEnv(serve.server)));
    return [
      `command: ${displayServeArgv(serve, ctx.planDir).join(' ')}`,
      env.length > 0 ? 'env:' : 'env: (inherited only)',
      ...env.map(([name, value]) => `  ${name}=${value}`),
    ];
  },
  hostNeeds: localHostNeeds,
  async preload() {
    await import('./start.js');
  },
  async start(serve, ctx) {
    const { server } = serve;
    if (server.port !== 'auto' && !(await portIsFree(server.host, server.port))) {
      throw new Error(
        `port ${server.port} on ${server.host} is already in use. Stop what listens there, or set server.port: auto.`,
      );
    }
    const port = server.port === 'auto' ? await findFreePort(server.host) : server.port;
    const { startLocalServer } = await import('./start.js');
    return startLocalServer(server, port, { ...ctx, reasoningFlags: serve.reasoningFlags });
  },
  leftovers: localLeftovers,
};
