import { mkdtempSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { findRecordedServers, registerLocalServer } from '../../../../src/server/local/records.js';
import { groupAlive } from '../../../../src/server/process-group.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'evalrig-io-'));

/** Server groups of this host whose evalrig is gone but which still run: what `cleanup` stops. */
const orphans = (env: NodeJS.ProcessEnv) => findRecordedServers(env).filter((server) => !server.ownerAlive);

describe('local server records', () => {
  it('finds a live group whose owner is gone, but never a reused group number', async () => {
    const env = { ...process.env, EVALRIG_CACHE: tmp() };
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const pgid = child.pid as number;
    try {
      const base = { pgid, owner_pid: 2 ** 22 + 1, host: hostname(), run_dir: '/r', command: 'vllm serve m' };
      // Recorded after the group started: the group is the recorded one, and its owner pid does not exist.
      const forget = registerLocalServer({ ...base, started_at: new Date().toISOString() }, env);
      expect(orphans(env).map((o) => o.record.pgid)).toEqual([pgid]);
      forget();
      // Recorded an hour before this group started: the number was reused; it must not be touched, and the record goes.
      registerLocalServer({ ...base, started_at: new Date(Date.now() - 3_600_000).toISOString() }, env);
      expect(orphans(env)).toEqual([]);
      expect(orphans(env)).toEqual([]);
      expect(groupAlive(pgid)).toBe(true);
    } finally {
      process.kill(-pgid, 'SIGKILL');
    }
  });
});
