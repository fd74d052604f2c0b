import { describe, expect, it } from 'vitest';
import { loadPlan } from '../../../src/plan/load.js';
import { PlanSchema } from '../../../src/plan/schema.js';
import { problemsOf, VALID, writePlan } from './helpers.js';

function planWith(notify: unknown) {
  return PlanSchema.safeParse({
    name: 'p',
    server: { model: 'Qwen/Qwen3-8B' },
    evals: [{ name: 'iq', backend: 'native', dataset: 'iquiz' }],
    notify,
  });
}

describe('notify in the plan', () => {
  it('is optional', () => {
    expect(planWith(undefined).data?.notify).toBeUndefined();
  });

  it('fills the defaults: json, on failure, 10 s, 2 retries', () => {
    expect(planWith([{ url: 'https://hooks.example.com/evalrig' }]).data?.notify).toEqual([
      { url: 'https://hooks.example.com/evalrig', kind: 'json', on: 'failure', timeout: 10, retries: 2 },
    ]);
  });

  it('takes a duration with units and the optional fields', () => {
    const parsed = planWith([
      {
        url: 'https://oapi.dingtalk.com/robot/send?access_token=x',
        kind: 'dingtalk',
        on: 'always',
        timeout: '1m30s',
        retries: 0,
        secret: 'SECabc',
        mention: ['13800001111', 'all'],
      },
    ]);
    expect(parsed.data?.notify?.[0]).toMatchObject({ timeout: 90, retries: 0, secret: 'SECabc' });
  });

  it.each([
    [{ url: 'ftp://example.com/x' }, ['notify', 0, 'url'], 'the http(s) address of the webhook'],
    [{ url: 'https://x.y/z', kind: 'teams' }, ['notify', 0, 'kind'], undefined],
    [{ url: 'https://x.y/z', on: 'success' }, ['notify', 0, 'on'], undefined],
    [{ url: 'https://x.y/z', retries: -1 }, ['notify', 0, 'retries'], undefined],
    [{ url: 'https://x.y/z', timeout: 0 }, ['notify', 0, 'timeout'], undefined],
    [
      { url: 'https://x.y/z', kind: 'slack', secret: 'abc' },
      ['notify', 0, 'secret'],
      'kind slack has no signed webhooks: secret applies to kind feishu and dingtalk only',
    ],
    [
      { url: 'https://x.y/z', kind: 'wecom', mention: ['all'] },
      ['notify', 0, 'mention'],
      'WeCom markdown messages cannot mention everyone: list user ids instead of "all"',
    ],
  ])('refuses %j', (target, path, message) => {
    const issues = planWith([target]).error?.issues ?? [];
    expect(issues).toEqual([expect.objectContaining({ path, ...(message ? { message } : {}) })]);
  });

  it('refuses an unknown key, as everywhere in the plan', () => {
    const issues = planWith([{ url: 'https://x.y/z', channel: '#ops' }]).error?.issues ?? [];
    expect(issues).toEqual([expect.objectContaining({ code: 'unrecognized_keys', path: ['notify', 0] })]);
  });

  it('reads YAML `on:` as a key, ${VAR} in the url, and a secret-named variable becomes a masked secret', () => {
    const token = 'b7f3c2e1-9a4d-4c6b-8e2f-1d0a5b3c7e9f';
    const file = writePlan(
      `${VALID}notify:\n  - url: https://open.feishu.cn/open-apis/bot/v2/hook/\${FEISHU_WEBHOOK_TOKEN}\n    kind: feishu\n    on: gate\n    secret: \${FEISHU_SIGNING_SECRET}\n`,
    );
    const loaded = loadPlan(file, {
      env: { FEISHU_WEBHOOK_TOKEN: token, FEISHU_SIGNING_SECRET: 'a1b2c3d4e5f6g7h8' },
    });
    expect(loaded.plan.notify?.[0]).toMatchObject({
      url: `https://open.feishu.cn/open-apis/bot/v2/hook/${token}`,
      on: 'gate',
      secret: 'a1b2c3d4e5f6g7h8',
    });
    expect(loaded.secrets).toEqual(expect.arrayContaining([token, 'a1b2c3d4e5f6g7h8']));
  });

  it('says where a bad target is in the file', () => {
    const file = writePlan(`${VALID}notify:\n  - url: https://x.y/z\n    kind: slack\n    secret: abc\n`);
    expect(problemsOf(file)).toEqual([
      expect.objectContaining({ path: 'notify[0].secret', line: expect.any(Number) as number }),
    ]);
  });
});
