import { appendFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LogSink } from '../../../../src/server/log-sink.js';
import { followJobLog } from '../../../../src/server/slurm/log-follower.js';

describe("following a job's output file", () => {
  it('has every line written so far after catchUp, each once, even while the poll reads too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evalrig-follow-'));
    const jobLog = join(dir, 'slurm-1.log');
    const sink = new LogSink(join(dir, 'server.log'));
    const follower = followJobLog(jobLog, sink);
    // Not there yet: the job has not started.
    await follower.catchUp();
    expect(sink.lines()).toEqual([]);
    for (let i = 0; i < 50; i++) {
      appendFileSync(jobLog, `line ${i}\n`);
      if (i % 7 === 0) await Promise.all([follower.catchUp(), follower.catchUp()]);
    }
    await follower.catchUp();
    expect(sink.lines(100)).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i}`));
    appendFileSync(jobLog, 'the last words, without a newline');
    await follower.stop();
    await sink.close();
    const copied = readFileSync(join(dir, 'server.log'), 'utf8').trimEnd().split('\n');
    expect(copied).toHaveLength(51);
    expect(copied.at(-1)).toBe('the last words, without a newline');
  });
});
