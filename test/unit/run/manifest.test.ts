import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ManifestFile, type Manifest } from '../../../src/run/manifest.js';
import type { ServePlan } from '../../../src/server/runtime.js';

const serve = { versionSource: 'server.vllm_version', notices: [], secrets: [] } as unknown as ServePlan;
const init = (startedAt: Date) => ({ runId: 'r', planFile: 'plan.yaml', runtime: 'local', serve, startedAt });
const read = (runDir: string) => JSON.parse(readFileSync(join(runDir, 'manifest.json'), 'utf8')) as Manifest;

describe('manifest.json across attempts', () => {
  it('keeps every attempt with its own phases, server and outcome', async () => {
    const runDir = mkdtempSync(join(tmpdir(), 'evalrig-manifest-'));
    const first = ManifestFile.create(runDir, init(new Date('2026-12-01T10:00:00Z')));
    await first.phase('start', () => Promise.resolve());
    first.recordServer({ displayArgv: ['vllm', 'serve'], baseUrl: 'http://127.0.0.1:1', pid: 111 });
    first.finish({ status: 'failed', exit_code: 1, finished_at: '2026-12-01T10:05:00.000Z', teardown: null });

    const second = ManifestFile.continue(runDir, init(new Date('2026-12-01T11:00:00Z')));
    expect(second.attemptNumber).toBe(2);
    await second.phase('datasets', () => Promise.resolve());
    // Held until accepted: a refused resume leaves the file as the first attempt left it.
    expect(read(runDir).attempts).toHaveLength(1);
    second.accept();
    second.recordServer({ displayArgv: ['vllm', 'serve'], baseUrl: 'http://127.0.0.1:2', pid: 222 });

    const manifest = read(runDir);
    expect(manifest.started_at).toBe('2026-12-01T10:00:00.000Z');
    expect(manifest.server.pid).toBe(222);
    expect(Object.keys(manifest.phases)).toEqual(['datasets']);
    expect(manifest.attempts).toMatchObject([
      { started_at: '2026-12-01T10:00:00.000Z', status: 'failed', exit_code: 1, server_pid: 111 },
      { started_at: '2026-12-01T11:00:00.000Z', status: null, finished_at: null, server_pid: 222 },
    ]);
    expect(Object.keys(manifest.attempts[0]?.phases ?? {})).toEqual(['start']);
  });

  it('refuses to continue a folder without a readable manifest', () => {
    const runDir = mkdtempSync(join(tmpdir(), 'evalrig-manifest-'));
    expect(() => ManifestFile.continue(runDir, init(new Date()))).toThrow(/manifest\.json is not readable/);
    expect(existsSync(join(runDir, 'manifest.json'))).toBe(false);
  });
});
