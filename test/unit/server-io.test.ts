import { mkdtempSync, readFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { PlanSchema } from '../../src/plan/schema.js';
import { collectSecrets } from '../../src/plan/secrets.js';
import { createRunDir } from '../../src/run/run-dir.js';
import { findOrphanServers, registerLocalServer } from '../../src/server/local/records.js';
import { LogSink } from '../../src/server/log-sink.js';
import { groupAlive, waitGroupGone } from '../../src/server/process-group.js';
import { findFatalLine } from '../../src/vllm/fatal-lines.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'evalrig-io-'));

describe('LogSink', () => {
  it('keeps a UTF-8 character split across chunks, splits lines per stream, masks, and writes server.log', async () => {
    const file = join(tmp(), 'server.log');
    const sink = new LogSink(file, 3, (line) => line.replace('secret', '***'));
    const seen: string[] = [];
    sink.onLine((line) => seen.push(line));
    const bytes = Buffer.from('答案：B secret\nsecond');
    sink.write(bytes.subarray(0, 2), 'stdout'); // cuts 答 in half
    sink.write('err line\n', 'stderr');
    sink.write(bytes.subarray(2), 'stdout');
    sink.write('\nthird\nfourth', 'stdout');
    await sink.close();
    expect(seen).toEqual(['err line', '答案：B ***', 'second', 'third', 'fourth']);
    expect(sink.lines()).toEqual(['second', 'third', 'fourth']);
    expect(readFileSync(file, 'utf8')).toBe('err line\n答案：B ***\nsecond\nthird\nfourth\n');
  });

  it('survives an unwritable log file and a throwing listener', async () => {
    const sink = new LogSink(join(tmp(), 'missing-dir', 'server.log'));
    sink.onLine(() => {
      throw new Error('display broke');
    });
    sink.write('still collected\n');
    await new Promise((r) => setTimeout(r, 50));
    sink.write('and this\n');
    await sink.close();
    expect(sink.lines()).toEqual(['still collected', 'and this']);
    expect(sink.writeError?.message).toMatch(/ENOENT/);
  });
});

describe('process groups', () => {
  it('sees a detached group alive until its last member exits', async () => {
    const child = spawn('sh', ['-c', 'sleep 0.3 & sleep 0.1; wait'], { detached: true, stdio: 'ignore' });
    const pgid = child.pid as number;
    expect(groupAlive(pgid)).toBe(true);
    expect(await waitGroupGone(pgid, 5_000)).toBe(true);
    expect(groupAlive(pgid)).toBe(false);
  });
});

describe('fatal line', () => {
  it('prefers the last specific error over an earlier warning', () => {
    const fatal = findFatalLine([
      'WARNING 01-01 00:00:00 [utils.py:1] DeprecationError: something old',
      "ValueError: The model's max seq len (32768) is larger than the maximum number of tokens that can be stored in KV cache (7344).",
      'RuntimeError: Engine core initialization failed. See root cause above.',
    ]);
    expect(fatal?.line).toMatch(/^ValueError: The model's max seq len/);
  });

  it('advises lowering max_model_len when it exceeds the model, not raising memory', () => {
    const fatal = findFatalLine([
      'Value error, User-specified max_model_len (131072) is greater than the derived max_model_len (max_position_embeddings=32768.0 ...)',
    ]);
    expect(fatal?.hint).toMatch(/model's own context length/);
  });
});

describe('secrets and run directories', () => {
  it('treats values of secret flags in extra_args as secrets', () => {
    const plan = PlanSchema.parse({
      name: 'p',
      server: { model: 'm', extra_args: ['--hf-token', 'hf_abcdefgh', '--api_key=sk-12345678'] },
      evals: [{ name: 'e', backend: 'native', dataset: 'iquiz', dataset_path: 'd' }],
    });
    expect(collectSecrets(plan, [], {})).toEqual(expect.arrayContaining(['hf_abcdefgh', 'sk-12345678']));
  });

  it('never hands out the same run directory twice, even within one second', () => {
    const out = tmp();
    const now = new Date('2026-01-02T03:04:05');
    const first = createRunDir(out, 'plan', now);
    const second = createRunDir(out, 'plan', now);
    expect(first.runId).toBe('20260102-030405');
    expect(second.runId).toBe('20260102-030405-2');
  });
});

describe('local server records', () => {
  it('finds a live group whose owner is gone, but never a reused group number', async () => {
    const env = { ...process.env, EVALRIG_CACHE: tmp() };
    const child = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    const pgid = child.pid as number;
    try {
      const base = { pgid, owner_pid: 2 ** 22 + 1, host: hostname(), run_dir: '/r', command: 'vllm serve m' };
      // Recorded after the group started: the group is the recorded one, and its owner pid does not exist.
      const forget = registerLocalServer({ ...base, started_at: new Date().toISOString() }, env);
      expect(findOrphanServers(env).map((o) => o.record.pgid)).toEqual([pgid]);
      forget();
      // Recorded an hour before this group started: the number was reused; it must not be touched, and the record goes.
      registerLocalServer({ ...base, started_at: new Date(Date.now() - 3_600_000).toISOString() }, env);
      expect(findOrphanServers(env)).toEqual([]);
      expect(findOrphanServers(env)).toEqual([]);
      expect(groupAlive(pgid)).toBe(true);
    } finally {
      process.kill(-pgid, 'SIGKILL');
    }
  });
});
