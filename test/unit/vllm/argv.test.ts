import { describe, expect, it } from 'vitest';
import { PlanSchema } from '../../../src/plan/schema.js';
import { clientUrl } from '../../../src/util/ports.js';
import { buildEngineFlags, buildServeArgv, buildServerEnv } from '../../../src/vllm/argv.js';
import { maskSecretFlags } from '../../../src/plan/secrets.js';
import { tutorialServeFlags } from '../helpers.js';

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
