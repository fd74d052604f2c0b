import { describe, expect, it } from 'vitest';
import { noticeOf, wants } from '../../../src/notify/notice.js';
import { credentialMasker } from '../../../src/notify/redact.js';
import { shownUrl } from '../../../src/plan/webhook-url.js';
import { failedRun, GATES_AND_DELTAS, matrix, okRun } from './fixtures.js';

describe('the notice of a run', () => {
  it('carries the summary fields, the first line of the error and where report.md is', () => {
    expect(noticeOf(failedRun())).toEqual({
      kind: 'run',
      status: 'failed',
      exit_code: 1,
      plan: 'nightly',
      model: 'Qwen3-8B',
      vllm_version: '0.10.1.1',
      duration_s: 725,
      error: 'mcq: vLLM stopped answering',
      report: '/data/outputs/nightly/20250101-020304/report.md',
      evals: [
        { name: 'iquiz', status: 'ok', score: 0.6125, num: 120, errors: 2 },
        { name: 'mcq', status: 'failed', score: null, num: 17, errors: 0 },
      ],
    });
  });

  it('carries gates and deltas when a later stage gives them', () => {
    const notice = noticeOf(okRun(), GATES_AND_DELTAS);
    expect(notice.gates).toEqual(GATES_AND_DELTAS.gates);
    expect(notice.deltas).toEqual(GATES_AND_DELTAS.deltas);
  });

  it('of a matrix, names each evaluation with its variant and adds up the variants', () => {
    const notice = noticeOf(matrix());
    expect(notice).toMatchObject({
      kind: 'matrix',
      plan: 'sweep',
      model: 'Qwen3-8B, Qwen3-8B-FP8',
      vllm_version: '0.10.1.1',
      duration_s: 500,
      error: 'fp8: mcq: vLLM stopped answering',
      report: '/data/outputs/sweep/20250101-020304/report.md',
    });
    expect(notice.evals.map((e) => `${e.variant}/${e.name}`)).toEqual(['bf16/iquiz', 'fp8/iquiz', 'fp8/mcq']);
  });
});

describe('on:', () => {
  const failedGate = { gates: [GATES_AND_DELTAS.gates[0]!] };
  const passedGate = { gates: [GATES_AND_DELTAS.gates[1]!] };

  it.each([
    ['an ok run', noticeOf(okRun()), { failure: false, gate: false, always: true }],
    [
      'an ok run whose gates passed',
      noticeOf(okRun(), passedGate),
      { failure: false, gate: false, always: true },
    ],
    ['a failed run', noticeOf(failedRun()), { failure: true, gate: false, always: true }],
    [
      'an interrupted run',
      noticeOf(failedRun({ status: 'interrupted', exit_code: 130 })),
      { failure: true, gate: false, always: true },
    ],
    [
      'an ok run with a failed gate',
      noticeOf(okRun(), failedGate),
      { failure: true, gate: true, always: true },
    ],
  ] as const)('%s', (_name, notice, expected) => {
    expect({
      failure: wants('failure', notice),
      gate: wants('gate', notice),
      always: wants('always', notice),
    }).toEqual(expected);
  });
});

describe('webhook addresses in warnings', () => {
  it.each([
    [
      'https://open.feishu.cn/open-apis/bot/v2/hook/b7f3c2e1-9a4d-4c6b-8e2f-1d0a5b3c7e9f',
      'https://open.feishu.cn/open-apis/bot/v2/hook/***',
    ],
    [
      'https://oapi.dingtalk.com/robot/send?access_token=9f1c0d3a5e7b2c4d6e8f0a1b3c5d7e9f',
      'https://oapi.dingtalk.com/robot/send?access_token=***',
    ],
    [
      'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa',
      'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=***',
    ],
    [
      'https://hooks.slack.com/services/T0123456789/B0123456789/abcdefghijklmnopqrstuvwx',
      'https://hooks.slack.com/services/***/***/***',
    ],
  ])('%s shows as %s', (url, shown) => {
    expect(shownUrl(url)).toBe(shown);
  });

  it('masks the credentials wherever a text quotes them', () => {
    const mask = credentialMasker({
      url: 'https://oapi.dingtalk.com/robot/send?access_token=9f1c0d3a5e7b2c4d6e8f0a1b3c5d7e9f',
      secret: 'SECf00dfacecafe0123456789',
    });
    expect(
      mask(
        'token 9f1c0d3a5e7b2c4d6e8f0a1b3c5d7e9f is not valid for SECf00dfacecafe0123456789; send is a word',
      ),
    ).toBe('token *** is not valid for ***; send is a word');
  });
});
