import type { ServerRuntime } from '../runtime.js';
import { externalServer } from './handle.js';
import { externalHostNeeds } from './host-needs.js';

/** An endpoint that already runs (`server.base_url`): nothing to start, stop or leave behind. */
export const externalRuntime: ServerRuntime = {
  name: 'external',
  launches: false,
  findVersion: async () => ({ version: null, source: 'external endpoint: read from /version once ready' }),
  describe: (serve) => [`server: external endpoint ${serve.server.base_url} (not started, not stopped)`],
  hostNeeds: externalHostNeeds,
  start: async (serve) => externalServer(serve.server),
};
