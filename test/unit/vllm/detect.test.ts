import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
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

  describe('the cheapest source first, remembered per executable', () => {
    /** A stand-in that records each run in `calls` before doing what `body` says. */
    function recordingScript(path: string, body: string): string {
      mkdirSync(join(path, '..'), { recursive: true });
      writeFileSync(path, `#!/bin/sh\necho "$0 $*" >> ${join(dir, 'calls')}\n${body}\n`);
      chmodSync(path, 0o755);
      return path;
    }
    const calls = () =>
      existsSync(join(dir, 'calls')) ? readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n') : [];

    /** A virtual environment: bin/vllm and bin/python3 (both stand-ins) and the site-packages of Python 3.11. */
    function venv(name: string, distInfos: string[]): { vllm: string; python: string } {
      const prefix = join(dir, name);
      const python = recordingScript(join(prefix, 'bin', 'python3'), 'echo 0.9.1');
      const vllm = recordingScript(join(prefix, 'bin', 'vllm'), 'echo 0.9.2');
      for (const version of distInfos) {
        const info = join(prefix, 'lib', 'python3.11', 'site-packages', `vllm-${version}.dist-info`);
        mkdirSync(info, { recursive: true });
        writeFileSync(
          join(info, 'METADATA'),
          `Metadata-Version: 2.4\nName: vllm\nVersion: ${version}\n\nVersion: 9.9.9 is quoted in the description\n`,
        );
      }
      return { vllm, python };
    }

    it('reads the package metadata beside the executable’s Python, running nothing', async () => {
      rmSync(join(dir, 'calls'), { force: true });
      const { vllm } = venv('venv-metadata', ['0.10.1.1']);
      const result = await detectVllmVersion({ executable: vllm });
      expect(result).toMatchObject({ version: { raw: '0.10.1.1' }, source: 'metadata' });
      expect(result.detail).toContain('vllm-0.10.1.1.dist-info');
      expect(calls()).toEqual([]);
    });

    it('asks the executable’s Python (importlib.metadata) before `vllm --version` when the metadata is ambiguous', async () => {
      rmSync(join(dir, 'calls'), { force: true });
      const { vllm, python } = venv('venv-two-copies', ['0.8.5', '0.9.0']);
      const result = await detectVllmVersion({ executable: vllm });
      expect(result).toMatchObject({ version: { raw: '0.9.1' }, source: 'python' });
      expect(calls()).toEqual([`${python} -c import importlib.metadata as m; print(m.version("vllm"))`]);
    });

    it('asks `vllm --version` first when no Python belongs to the executable', async () => {
      rmSync(join(dir, 'calls'), { force: true });
      const vllm = recordingScript(join(dir, 'lonely', 'vllm'), 'echo 0.11.0');
      const result = await detectVllmVersion({ executable: vllm });
      expect(result).toMatchObject({ version: { raw: '0.11.0' }, source: 'cli' });
      expect(calls()).toEqual([`${vllm} --version`]);
    });

    it('keeps a found version in the cache until the executable changes', async () => {
      rmSync(join(dir, 'calls'), { force: true });
      const vllm = recordingScript(join(dir, 'cached', 'vllm'), 'echo 0.10.0');
      const first = await detectVllmVersion({ executable: vllm });
      const second = await detectVllmVersion({ executable: vllm });
      expect(first).toMatchObject({ version: { raw: '0.10.0' }, source: 'cli' });
      expect(second).toMatchObject({ version: { raw: '0.10.0' }, source: 'cli' });
      expect(second.detail).toContain('(cached)');
      expect(calls()).toHaveLength(1);
      // A reinstall rewrites the executable: a new mtime makes the cached answer stale.
      const later = new Date(Date.now() + 60_000);
      utimesSync(vllm, later, later);
      const third = await detectVllmVersion({ executable: vllm });
      expect(third.detail).not.toContain('(cached)');
      expect(calls()).toHaveLength(2);
    });

    it('keeps versions apart for different VLLM_ variables, and never caches a failure', async () => {
      rmSync(join(dir, 'calls'), { force: true });
      const vllm = recordingScript(join(dir, 'by-env', 'vllm'), 'echo "${VLLM_SIM_VERSION:-}"');
      const withVersion = await detectVllmVersion({ executable: vllm, env: { VLLM_SIM_VERSION: '0.8.5' } });
      const other = await detectVllmVersion({ executable: vllm, env: { VLLM_SIM_VERSION: '0.12.0' } });
      expect(withVersion.version?.raw).toBe('0.8.5');
      expect(other.version?.raw).toBe('0.12.0');
      const none = await detectVllmVersion({
        executable: vllm,
        python: join(dir, 'missing-python'),
        env: {},
      });
      const again = await detectVllmVersion({
        executable: vllm,
        python: join(dir, 'missing-python'),
        env: {},
      });
      expect(none.version).toBeNull();
      expect(again.version).toBeNull();
      expect(calls()).toHaveLength(4);
    });

    it('shares one probe between callers asking at the same time', async () => {
      rmSync(join(dir, 'calls'), { force: true });
      const vllm = recordingScript(join(dir, 'shared', 'vllm'), 'sleep 0.2; echo 0.10.2');
      const [a, b] = await Promise.all([
        detectVllmVersion({ executable: vllm }),
        detectVllmVersion({ executable: vllm }),
      ]);
      expect(a).toEqual(b);
      expect(calls()).toHaveLength(1);
    });
  });
});
