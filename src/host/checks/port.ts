import { ok, skipped } from './results.js';
import type { CheckResult, HostFacts, PreflightInput } from './types.js';

export function checkPort(input: PreflightInput, facts: HostFacts): CheckResult | null {
  if (!input.needs.portOnHost) return null;
  const title = 'Port';
  if (input.port === 'auto') return ok('port', title, 'auto: a free port is chosen at start');
  const port = facts.port;
  if (port === null) return skipped('port', title, 'not probed');
  const where = `${port.host}:${port.port}`;
  switch (port.status) {
    case 'free':
      return ok('port', title, `${where} is free`);
    case 'in-use':
      return {
        id: 'port',
        title,
        status: 'error',
        detail: `${where} is in use (a second vLLM may even bind it too and share its traffic: it sets SO_REUSEPORT)`,
        fix: `See who holds it (ss -ltnp 'sport = :${port.port}'), stop it, or set server.port: auto.`,
      };
    case 'denied':
      return {
        id: 'port',
        title,
        status: 'error',
        detail: `${where}: permission denied (${port.detail})`,
        fix: 'Use a port of 1024 or above, or server.port: auto.',
      };
    case 'unavailable':
      return {
        id: 'port',
        title,
        status: 'error',
        detail: `${where}: cannot bind (${port.detail})`,
        fix: 'Set server.host to an address of this machine: 127.0.0.1, or 0.0.0.0 for all.',
      };
  }
}
