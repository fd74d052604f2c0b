import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectVllmVersion } from '../../../src/vllm/detect.js';

describe('detectVllmVersion', () => {
  let dir: string;

  function script(name: string, body: string): string {
    const path = join(dir, name);
    writeFileSync(path, `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o755);
    return path;
  }

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'evalrig-vllm-version-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('uses the pin without starting anything', async () => {
    const result = await detectVllmVersion({ executable: join(dir, 'absent'), pinned: '0.9.2' });
    expect(result).toMatchObject({ version: { major: 0, minor: 9, patch: 2 }, source: 'pinned' });
  });

  it('uses a four-part pin such as 0.10.1.1', async () => {
    const result = await detectVllmVersion({ executable: join(dir, 'absent'), pinned: '0.10.1.1' });
    expect(result).toMatchObject({ version: { major: 0, minor: 10, patch: 1, more: [1] }, source: 'pinned' });
  });

  it('reports a pin that is not a version', async () => {
    const result = await detectVllmVersion({ executable: 'vllm', pinned: 'latest' });
    expect(result).toEqual({ version: null, detail: expect.stringContaining('"latest" is not a version') });
  });

  it('runs `<executable> --version`', async () => {
    const vllm = script('vllm', '[ "$1" = "--version" ] && echo 0.10.2.dev378+g4d7fe40fc.d20250829');
    const result = await detectVllmVersion({ executable: vllm });
    expect(result).toMatchObject({ version: { major: 0, minor: 10, patch: 2 }, source: 'cli' });
  });

  it('falls back to the package metadata through Python (a CLI older than 0.6.5)', async () => {
    const vllm = script('old-vllm', 'echo "usage: vllm [-h] {serve,complete,chat} ..." >&2; exit 2');
    const python = script(
      'python-with-vllm',
      'echo "INFO 04-16 21:06:25 [__init__.py:243] Automatically detected platform cuda."; echo 0.6.3.post1',
    );
    const result = await detectVllmVersion({ executable: vllm, python });
    expect(result).toMatchObject({ version: { major: 0, minor: 6, patch: 3 }, source: 'python' });
  });

  it('says why when neither vllm nor Python has it, and does not throw', async () => {
    const python = script(
      'python-without-vllm',
      'echo "importlib.metadata.PackageNotFoundError: No package metadata was found for vllm" >&2; exit 1',
    );
    const result = await detectVllmVersion({ executable: join(dir, 'missing-vllm'), python });
    expect(result.version).toBeNull();
    expect(result.detail).toContain('missing-vllm: command not found');
    expect(result.detail).toContain('vllm is not installed');
  });

  it('survives a missing Python too', async () => {
    const result = await detectVllmVersion({
      executable: join(dir, 'missing-vllm'),
      python: join(dir, 'missing-python'),
    });
    expect(result).toEqual({
      version: null,
      detail: expect.stringContaining('missing-python: command not found'),
    });
  });
});
