import { describe, expect, it } from 'vitest';
import { PlanSchema } from '../../src/plan/schema.js';
import { findFatalLine } from '../../src/vllm/fatal-lines.js';
import { clientUrl } from '../../src/util/ports.js';
import { capacityFact, startupPhaseOf } from '../../src/vllm/startup-phases.js';
import { buildEngineFlags, buildServeArgv, buildServerEnv } from '../../src/vllm/argv.js';
import { maskSecretFlags } from '../../src/plan/secrets.js';
import { tutorialServeFlags } from './helpers.js';

function server(extra: Record<string, unknown> = {}) {
  return PlanSchema.parse({
    name: 'p',
    server: {
      model: '/root/autodl-tmp/Qwen/Qwen3-8B',
      served_model_name: 'Qwen3-8B',
      max_model_len: 8192,
      reasoning_parser: 'qwen3',
      ...extra,
    },
    evals: [{ name: 'e', backend: 'native', dataset: 'iquiz', dataset_path: 'd' }],
  }).server;
}

describe('vllm serve argv', () => {
  it('renders the tutorial command from the plan', () => {
    expect(
      buildServeArgv(server(), { port: 8000, host: '127.0.0.1', model: '/root/autodl-tmp/Qwen/Qwen3-8B' }),
    ).toEqual(['serve', '/root/autodl-tmp/Qwen/Qwen3-8B', ...tutorialServeFlags('127.0.0.1')]);
  });

  it('uses version-rendered reasoning flags and appends extra args last', () => {
    const flags = buildEngineFlags(server({ extra_args: ['--enforce-eager'] }), {
      port: 1,
      host: '0.0.0.0',
      model: 'm',
      reasoningFlags: ['--enable-reasoning', '--reasoning-parser', 'deepseek_r1'],
    });
    expect(flags.slice(-4)).toEqual([
      '--enable-reasoning',
      '--reasoning-parser',
      'deepseek_r1',
      '--enforce-eager',
    ]);
  });

  it('omits what the plan does not set', () => {
    const argv = buildServeArgv(
      server({ served_model_name: undefined, max_model_len: undefined, reasoning_parser: undefined }),
      { port: 8000, host: 'h', model: 'm' },
    );
    expect(argv).toEqual(['serve', 'm', '--host', 'h', '--port', '8000']);
  });

  it('passes the api key in the environment, never on the command line', () => {
    const spec = server({ api_key: 'sk-very-secret' });
    expect(buildServeArgv(spec, { port: 1, host: 'h', model: 'm' }).join(' ')).not.toContain(
      'sk-very-secret',
    );
    expect(buildServerEnv(spec)).toMatchObject({ VLLM_API_KEY: 'sk-very-secret' });
  });

  it('masks secret flags a user put in extra_args, in both forms', () => {
    const argv = buildServeArgv(server({ extra_args: ['--api-key', 'sk-very-secret'] }), {
      port: 1,
      host: 'h',
      model: 'm',
    });
    expect(maskSecretFlags(argv).join(' ')).not.toContain('sk-very-secret');
    expect(maskSecretFlags(['--api_key=abc'])).toEqual(['--api_key=***']);
  });

  it('reaches a wildcard bind address through loopback', () => {
    expect(clientUrl('0.0.0.0', 80)).toBe('http://127.0.0.1:80');
    expect(clientUrl('::1', 80)).toBe('http://[::1]:80');
  });
});

describe('fatal line', () => {
  it('finds the root cause above the traceback, not the generic last line', () => {
    const log = [
      '(EngineCore_DP0 pid=1094) ERROR 04-05 01:12:55 [core.py:390] EngineCore failed to start.',
      '(EngineCore_DP0 pid=1094) Traceback (most recent call last):',
      '(EngineCore_DP0 pid=1094)   File "/usr/lib/python3/vllm/v1/engine/core.py", line 380, in run_engine_core',
      "(EngineCore_DP0 pid=1094) ValueError: To serve at least one request with the models's max seq len (262144), (24.0 GiB KV cache is needed, which is larger than the available KV cache memory (3.18 GiB).",
      '(APIServer pid=223598) RuntimeError: Engine core initialization failed. See root cause above. Failed core proc(s): {}',
    ];
    const fatal = findFatalLine(log);
    expect(fatal?.line).toContain('ValueError: To serve at least one request');
    expect(fatal?.hint).toContain('max_model_len');
  });

  it('recognises the argparse rejection of a flag', () => {
    const fatal = findFatalLine([
      'usage: vllm [-h] [-v] {chat,complete,serve,bench,collect-env,run-batch} ...',
      'vllm: error: unrecognized arguments: --enable-reasoning',
    ]);
    expect(fatal?.line).toBe('vllm: error: unrecognized arguments: --enable-reasoning');
    expect(fatal?.hint).toContain('does not accept that flag');
  });

  it('falls back to the generic line when nothing better exists, and to nothing on a clean log', () => {
    expect(
      findFatalLine(['RuntimeError: Engine core initialization failed. See root cause above.'])?.line,
    ).toContain('Engine core');
    expect(findFatalLine(['INFO 01-01 00:00:00 [api_server.py:1] all good'])).toBeUndefined();
  });
});

describe('start-up phases', () => {
  it('maps log lines to phases and reads capacity facts', () => {
    expect(
      startupPhaseOf(
        '(EngineCore_DP0 pid=1) INFO 10-21 09:11:57 [kv_cache_utils.py:1087] GPU KV cache size: 425,424 tokens',
      ),
    ).toBe('allocating KV cache');
    expect(startupPhaseOf('INFO:     Application startup complete.')).toBe('up');
    expect(capacityFact('GPU KV cache size: 425,424 tokens')).toEqual({ kvCacheTokens: 425424 });
    expect(capacityFact('Maximum concurrency for 65,536 tokens per request: 6.49x')).toEqual({
      maxConcurrency: 6.49,
    });
  });
});
