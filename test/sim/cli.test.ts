import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_MODEL, SIM_BIN_DIR, killAllSims, runSim, startReadySim, tempDir } from './helpers.js';

const USAGE = 'usage: vllm [-h] [-v] {chat,complete,serve,bench,collect-env,run-batch} ...';

afterEach(killAllSims);

describe('vllm-sim CLI', () => {
  it('prints the simulated version with --version / -v and exits 0', async () => {
    const plain = await runSim(['--version']);
    expect(plain).toMatchObject({ code: 0, stdout: '0.17.1\n' });
    const dev = await runSim(['-v'], { VLLM_SIM_VERSION: '0.10.2.dev378+g4d7fe40fc.d20250829' });
    expect(dev).toMatchObject({ code: 0, stdout: '0.10.2.dev378+g4d7fe40fc.d20250829\n' });
  });

  it('rejects an unknown flag like argparse (vllm-versions §6.1)', async () => {
    const r = await runSim(['serve', DEFAULT_MODEL, '--foo']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${USAGE}\nvllm: error: unrecognized arguments: --foo\n`);
  });

  it('requires the model and reports bad values from the serve sub-parser', async () => {
    const missing = await runSim(['serve', '--port', '8000']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('vllm serve: error: the following arguments are required: model_tag');
    const badPort = await runSim(['serve', DEFAULT_MODEL, '--port=abc']);
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toContain("vllm serve: error: argument --port: invalid int value: 'abc'");
  });

  it.each(['0.10.0', '0.11.0', '0.17.1'])('rejects --enable-reasoning on %s with exit 2', async (version) => {
    const r = await runSim(
      ['serve', DEFAULT_MODEL, '--enable-reasoning', '--reasoning-parser', 'deepseek_r1'],
      {
        VLLM_SIM_VERSION: version,
      },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`${USAGE}\nvllm: error: unrecognized arguments: --enable-reasoning\n`);
  });

  it('on 0.8.5 wants --reasoning-parser with --enable-reasoning', async () => {
    const r = await runSim(['serve', DEFAULT_MODEL, '--enable-reasoning'], { VLLM_SIM_VERSION: '0.8.5' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TypeError: Error: --enable-reasoning requires --reasoning-parser\n$/);
  });

  it('rejects unknown reasoning parsers, naming the valid ones for the version', async () => {
    const r = await runSim(['serve', DEFAULT_MODEL, '--reasoning-parser', 'nope']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /^KeyError: 'invalid reasoning parser: nope \(chose from \{ deepseek_r1,granite,qwen3,.*\}\)'$/m,
    );
    // qwen3 arrived in 0.9.0.
    const old = await runSim(['serve', DEFAULT_MODEL, '--enable-reasoning', '--reasoning-parser', 'qwen3'], {
      VLLM_SIM_VERSION: '0.8.5',
    });
    expect(old.code).toBe(1);
    expect(old.stderr).toContain(
      "KeyError: 'invalid reasoning parser: qwen3 (chose from { deepseek_r1,granite })'",
    );
  });

  it('prints the deprecation warning for --enable-reasoning on 0.9.2 and still serves', async () => {
    const sim = await startReadySim({
      args: ['--enable-reasoning', '--reasoning-parser', 'deepseek_r1'],
      env: { VLLM_SIM_VERSION: '0.9.2' },
    });
    expect(sim.stdout()).toMatch(
      /^WARNING \d\d-\d\d \d\d:\d\d:\d\d \[arg_utils\.py:\d+\] The parameter --enable-reasoning is deprecated\.$/m,
    );
  });

  it('stops with exit 2 on bad knob values', async () => {
    const cases: Array<[Record<string, string>, RegExp]> = [
      [{ VLLM_SIM_ACCURACY: '1.5' }, /invalid VLLM_SIM_ACCURACY="1\.5": expected a number between 0 and 1/],
      [{ VLLM_SIM_VERSION: 'latest' }, /invalid VLLM_SIM_VERSION/],
      [
        { VLLM_SIM_FAULT: 'crash_on_load:meteor' },
        /crash_on_load wants one of cuda_oom, kv_cache, gpu_memory, port_in_use/,
      ],
      [{ VLLM_SIM_FAULT: 'http_error:200@0.5' }, /http_error wants/],
      [{ VLLM_SIM_ANSWER_KEY: '/nonexistent/key.jsonl' }, /invalid VLLM_SIM_ANSWER_KEY.*no such file/],
    ];
    for (const [env, message] of cases) {
      const r = await runSim(['serve', DEFAULT_MODEL], env);
      expect(r.code, JSON.stringify(env)).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  it('reads knobs from VLLM_SIM_CONFIG (YAML or JSON); the environment wins', async () => {
    const dir = tempDir();
    const yaml = join(dir, 'sim.yaml');
    writeFileSync(yaml, 'version: 0.8.5\nfault:\n  - http_error:503x1\n');
    expect((await runSim(['--version'], { VLLM_SIM_CONFIG: yaml })).stdout).toBe('0.8.5\n');
    expect((await runSim(['--version'], { VLLM_SIM_CONFIG: yaml, VLLM_SIM_VERSION: '0.9.2' })).stdout).toBe(
      '0.9.2\n',
    );
    const json = join(dir, 'sim.json');
    writeFileSync(json, JSON.stringify({ VLLM_SIM_VERSION: '0.11.0' }));
    expect((await runSim(['--version'], { VLLM_SIM_CONFIG: json })).stdout).toBe('0.11.0\n');
    writeFileSync(json, JSON.stringify({ colour: 'blue' }));
    const bad = await runSim(['--version'], { VLLM_SIM_CONFIG: json });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown key 'colour'/);
  });

  it('runs as `vllm` through the sim/bin shim, also via a symlink', async () => {
    const dir = tempDir();
    symlinkSync(join(SIM_BIN_DIR, 'vllm'), join(dir, 'vllm'));
    const { stdout } = await promisify(execFile)(join(dir, 'vllm'), ['--version'], {
      env: { ...process.env, VLLM_SIM_VERSION: '0.9.2' },
    });
    expect(stdout).toBe('0.9.2\n');
  });
});
