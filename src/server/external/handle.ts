import type { ServerSpec } from '../../plan/schema.js';
import type { ServerHandle } from '../runtime.js';

/** An endpoint someone else runs: evalrig neither starts nor stops it. */
export function externalServer(server: ServerSpec): ServerHandle {
  const baseUrl = (server.base_url ?? '').replace(/\/+$/, '').replace(/\/v1$/, '');
  return {
    runtime: 'external',
    launched: false,
    hints: {
      notReady:
        'check server.base_url and that the server is up (curl it), or raise server.startup_timeout if it is still starting.',
      keyOwner: 'the endpoint expects',
      modelMissing: 'Set server.served_model_name to one it lists.',
    },
    baseUrl,
    apiKey: server.api_key,
    servedModel: server.served_model_name ?? server.model ?? '',
    displayArgv: [],
    exited: new Promise(() => undefined),
    logTail: () => [],
    onLogLine: () => () => undefined,
    stop: async () => ({
      outcome: 'none',
      duration_ms: 0,
      verified: true,
      detail: 'external endpoint: left running',
    }),
  };
}
