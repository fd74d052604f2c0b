import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { PlanSchema, type Plan, type NativeEvalSpec } from '../../../src/plan/schema.js';
import {
  collectSecrets,
  maskEnv,
  maskPlan,
  maskSecretFlags,
  SECRET_NAME,
  secretMasker,
} from '../../../src/plan/secrets.js';

function planWith(server: Record<string, unknown>, extra: Record<string, unknown> = {}): Plan {
  return PlanSchema.parse({
    name: 't',
    server: { model: '/models/m', ...server },
    evals: [{ name: 'iq', backend: 'native', dataset: 'iquiz' }],
    ...extra,
  });
}

describe('secret names', () => {
  it.each([
    'HF_TOKEN',
    'HUGGING_FACE_HUB_TOKEN',
    'OPENAI_API_KEY',
    'HF_KEY',
    'OPENAI_KEY',
    'AWS_SECRET_ACCESS_KEY',
    'DB_PASSWORD',
    'DB_PASSWD',
    'SMTP_PASS',
    'GOOGLE_APPLICATION_CREDENTIALS',
    'VLLM_API_KEY',
    'OPENAIAPIKEY',
    'MY_ACCESSKEY',
    'SSH_PRIVATEKEY',
    'hf_token',
    'TOKEN',
    'API_KEYS',
  ])('%s is a secret', (name) => {
    expect(SECRET_NAME.test(name)).toBe(true);
  });

  it.each([
    'TOKENIZERS_PARALLELISM',
    'KEYBOARD',
    'MONKEY_PATCH',
    'TOKENIZER',
    'HF_HUB_OFFLINE',
    'PASSTHROUGH',
    'CUDA_VISIBLE_DEVICES',
    'VLLM_USE_MODELSCOPE',
  ])('%s is not a secret', (name) => {
    expect(SECRET_NAME.test(name)).toBe(false);
  });
});

describe('free-text masking', () => {
  it('masks every occurrence, longest secret first', () => {
    expect(secretMasker(['sk-abcdef12', 'sk-abcdef12345'])('key sk-abcdef12345 and sk-abcdef12')).toBe(
      'key *** and ***',
    );
  });

  it('leaves short and number-like values alone, so `false` stays false everywhere', () => {
    const plan = planWith({
      env: { TOKENIZERS_PARALLELISM: 'false', HF_TOKEN: 'false', DB_PASSWORD: '12345678', HF_KEY: 'short' },
    });
    expect(collectSecrets(plan, [], {})).toEqual([]);
    expect(secretMasker(['false', '12345678', 'short'])('stream: false, port 12345678, short')).toBe(
      'stream: false, port 12345678, short',
    );
  });

  it('collects api_key, secret env values, secret flag values and interpolated secret variables', () => {
    const plan = planWith({
      api_key: 'sk-evalrig-0123456789',
      env: { HF_TOKEN: 'hf_abcdefgh', TOKENIZERS_PARALLELISM: 'somethinglong' },
      extra_args: ['--hf-token=hf_fromflag1', '--api-key', 'sk-fromflag2'],
    });
    const secrets = collectSecrets(plan, ['OPENAI_KEY', 'LEN'], {
      OPENAI_KEY: 'sk-interpolated',
      LEN: '8192819281',
    });
    expect(secrets.sort()).toEqual(
      ['hf_abcdefgh', 'hf_fromflag1', 'sk-evalrig-0123456789', 'sk-fromflag2', 'sk-interpolated'].sort(),
    );
  });
});

describe('structured masking', () => {
  it('masks secret flag values in both forms', () => {
    expect(maskSecretFlags(['--api-key', 'k', '--hf_token=t', '--port', '8000'])).toEqual([
      '--api-key',
      '***',
      '--hf_token=***',
      '--port',
      '8000',
    ]);
  });

  it('masks secret-named env entries only', () => {
    expect(maskEnv({ HF_TOKEN: 'x', TOKENIZERS_PARALLELISM: 'false' })).toEqual({
      HF_TOKEN: '***',
      TOKENIZERS_PARALLELISM: 'false',
    });
  });

  it('maskPlan masks api_key, env, docker env, flags and matrix overrides; false stays false', () => {
    const plan = planWith(
      {
        runtime: 'docker',
        api_key: 'abc',
        enforce_eager: false,
        env: { HF_TOKEN: 'hf_abcdefgh', TOKENIZERS_PARALLELISM: 'false' },
        docker: { image: 'vllm/vllm-openai:v0.11.0', env: { OPENAI_KEY: 'k', MODE: 'false' } },
        extra_args: ['--api-key', 'sk-flag-value', '--max-num-seqs', '8'],
      },
      {
        matrix: [
          { name: 'a', set: { 'server.api_key': 'sk-variant-key', 'server.env.HF_TOKEN': 'hf_variant' } },
          { name: 'b', set: { 'server.env': { HF_KEY: 'hf_nested' }, 'evals[0].limit': 10 } },
        ],
      },
    );
    const masked = maskPlan(plan);
    expect(masked.server).toMatchObject({
      api_key: '***',
      enforce_eager: false,
      env: { HF_TOKEN: '***', TOKENIZERS_PARALLELISM: 'false' },
      docker: { env: { OPENAI_KEY: '***', MODE: 'false' } },
      extra_args: ['--api-key', '***', '--max-num-seqs', '8'],
    });
    expect(masked.matrix).toEqual([
      { name: 'a', set: { 'server.api_key': '***', 'server.env.HF_TOKEN': '***' } },
      { name: 'b', set: { 'server.env': { HF_KEY: '***' }, 'evals[0].limit': 10 } },
    ]);
    // Written as YAML, every value keeps its type.
    const written = parse(stringify(masked)) as Plan;
    expect(written.server.env.TOKENIZERS_PARALLELISM).toBe('false');
    expect((written.evals[0] as NativeEvalSpec | undefined)?.generation.stream).toBe(false);
    expect(written.server.port).toBe('auto');
    // The plan itself is untouched.
    expect(plan.server.api_key).toBe('abc');
  });

  it('masks the credentials of notify webhooks by key, and lists them for free text', () => {
    const plan = PlanSchema.parse({
      name: 'p',
      server: { model: '/m' },
      evals: [{ name: 'q', backend: 'native', dataset: 'iquiz' }],
      notify: [
        {
          url: 'https://open.feishu.cn/open-apis/bot/v2/hook/0a1b2c3d-4e5f-6789-abcd-ef0123456789',
          kind: 'feishu',
          secret: 'signing-secret-1',
        },
        { url: 'https://oapi.dingtalk.com/robot/send?access_token=abcdef0123456789', kind: 'dingtalk' },
      ],
    });
    const masked = maskPlan(plan);
    expect(masked.notify?.map((target) => [target.url, target.secret])).toEqual([
      ['https://open.feishu.cn/open-apis/bot/v2/hook/***', '***'],
      ['https://oapi.dingtalk.com/robot/send?access_token=***', undefined],
    ]);
    expect(collectSecrets(plan, [], {})).toEqual(
      expect.arrayContaining([
        '0a1b2c3d-4e5f-6789-abcd-ef0123456789',
        'signing-secret-1',
        'abcdef0123456789',
      ]),
    );
  });

  it('never uses as a mask a value the plan also holds under a name that is not secret', () => {
    const plan = PlanSchema.parse({
      name: 'p',
      server: {
        model: '/models/Qwen3-8B',
        env: { HF_TOKEN: '/models/Qwen3-8B', OTHER_TOKEN: 'hf_realsecret123' },
      },
      evals: [{ name: 'q', backend: 'native', dataset: 'iquiz' }],
    });
    expect(collectSecrets(plan, [], {})).toEqual(['hf_realsecret123']);
  });

  it('maskPlan replaces free-text secrets inside other strings', () => {
    const plan = planWith({ model: 'https://user:s3cret-password@example.com/model' });
    expect(maskPlan(plan, ['s3cret-password']).server.model).toBe('https://user:***@example.com/model');
  });
});

describe("an endpoint's address", () => {
  const plan = planWith({
    runtime: 'external',
    model: undefined,
    base_url: 'https://evaluser:pa55word-0123@llm.example.com:8443/v1?api-key=sk-query-0123456',
  });

  it('gives its user info and query values to free-text masking', () => {
    expect(collectSecrets(plan, [], {}).sort()).toEqual(['evaluser', 'pa55word-0123', 'sk-query-0123456']);
  });

  it('is shown with them masked and its route kept, in the resolved plan', () => {
    expect(maskPlan(plan).server.base_url).toBe('https://***:***@llm.example.com:8443/v1?api-key=***');
  });

  it('stays as it is without credentials', () => {
    const open = planWith({ runtime: 'external', base_url: 'http://10.0.0.5:8000/v1' });
    expect(maskPlan(open).server.base_url).toBe('http://10.0.0.5:8000/v1');
    expect(collectSecrets(open, [], {})).toEqual([]);
  });
});
