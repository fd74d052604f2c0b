import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { groupAlive, waitGroupGone } from '../../../src/server/process-group.js';

describe('process groups', () => {
  it('sees a detached group alive until its last member exits', async () => {
    const child = spawn('sh', ['-c', 'sleep 0.3 & sleep 0.1; wait'], { detached: true, stdio: 'ignore' });
    const pgid = child.pid as number;
    expect(groupAlive(pgid)).toBe(true);
    expect(await waitGroupGone(pgid, 5_000)).toBe(true);
    expect(groupAlive(pgid)).toBe(false);
  });
});
