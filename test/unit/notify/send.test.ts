import { createHmac } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { noticeOf, type RunNotice } from '../../../src/notify/notice.js';
import { notifierFor } from '../../../src/notify/registry.js';
import { notifyRun, sendNotifications } from '../../../src/notify/send.js';
import { NotifyTargetSchema, type NotifyTarget } from '../../../src/plan/schema.js';
import type { GateVerdict } from '../../../src/history/gates.js';
import { evalSummary, failedRun, GATES_AND_DELTAS, okRun } from './fixtures.js';
import { answer, WebhookServer } from './webhook-server.js';

const FEISHU_TOKEN = 'b7f3c2e1-9a4d-4c6b-8e2f-1d0a5b3c7e9f';
const DINGTALK_TOKEN = '9f1c0d3a5e7b2c4d6e8f0a1b3c5d7e9f1a2b3c4d';
const WECOM_KEY = '693a91f6-7aoc-4bc4-97a0-0ec2sifa5aaa';
const SLACK_PATH = 'services/T0123456789/B0123456789/abcdefghijklmnopqrstuvwx';
const SECRET = 'SECf00dfacecafe0123456789abcdef0123456789abcdef0123456789abcdef01';
const CREDENTIALS = [FEISHU_TOKEN, DINGTALK_TOKEN, WECOM_KEY, 'abcdefghijklmnopqrstuvwx', SECRET];

const notice: RunNotice = noticeOf(failedRun(), GATES_AND_DELTAS);
const TITLE = 'evalrig · nightly: failed (exit 1)';

let server: WebhookServer;
let infos: string[];
let warnings: string[];
const log = { info: (line: string) => infos.push(line), warn: (line: string) => warnings.push(line) };

beforeEach(async () => {
  server = await new WebhookServer().start();
  infos = [];
  warnings = [];
});

afterEach(async () => {
  await server.stop();
  // Whatever went wrong, a warning never carries a webhook's token or a signing secret.
  for (const warning of warnings)
    for (const credential of CREDENTIALS) expect(warning).not.toContain(credential);
});

function target(fields: Record<string, unknown>): NotifyTarget {
  return NotifyTargetSchema.parse(fields);
}

const urls = {
  json: () => `${server.origin}/evalrig-hook`,
  feishu: () => `${server.origin}/open-apis/bot/v2/hook/${FEISHU_TOKEN}`,
  dingtalk: () => `${server.origin}/robot/send?access_token=${DINGTALK_TOKEN}`,
  wecom: () => `${server.origin}/cgi-bin/webhook/send?key=${WECOM_KEY}`,
  slack: () => `${server.origin}/${SLACK_PATH}`,
};

async function sendOne(fields: Record<string, unknown>, retryDelayMs = 10): Promise<void> {
  await sendNotifications(notice, [target(fields)], { log, retryDelayMs });
}

/** The one request the server got, with its JSON body. */
function received(): { url: string; body: Record<string, unknown> } {
  expect(server.requests).toHaveLength(1);
  const [request] = server.requests;
  expect(request?.method).toBe('POST');
  expect(request?.contentType).toMatch(/^application\/json/);
  return { url: request?.url ?? '', body: request?.body as Record<string, unknown> };
}

describe('message shapes', () => {
  it('json posts the notice as summary.json names things, with a title and the mentions', async () => {
    await sendOne({ url: urls.json(), on: 'always', mention: ['oncall'] });
    expect(received().body).toEqual({ source: 'evalrig', title: TITLE, ...notice, mention: ['oncall'] });
    expect(infos).toEqual([`notified the json webhook ${server.origin}/evalrig-hook`]);
  });

  it('feishu posts a rich-text post: a title, one paragraph a line, the mentions as at elements', async () => {
    await sendOne({
      url: urls.feishu(),
      kind: 'feishu',
      mention: ['ou_7d8a6e6df7621556ce0d21922b676706', 'all'],
    });
    const { url, body } = received();
    expect(url).toBe(`/open-apis/bot/v2/hook/${FEISHU_TOKEN}`);
    expect(body).not.toHaveProperty('sign');
    expect(body.msg_type).toBe('post');
    const post = (body.content as { post: { zh_cn: { title: string; content: unknown[][] } } }).post.zh_cn;
    expect(post.title).toBe(TITLE);
    const paragraphs = post.content;
    expect(paragraphs.slice(0, -1)).toEqual(
      [
        'Model: Qwen3-8B · vLLM 0.10.1.1 · took 12m 5s',
        'Error: mcq: vLLM stopped answering',
        'Scores',
        '- iquiz: 0.6125 (n=120, 2 errors)',
        '- mcq: FAILED (n=17)',
        'Gates',
        '- FAIL iquiz.OVERALL.score: iquiz OVERALL score 0.6125 is below min 0.65',
        '- pass iquiz.error_rate: iquiz error_rate 0.0167 ≤ max 0.05',
        'Changes',
        '- iquiz: 0.6583 → 0.6125 (-0.0458)',
        'Report: /data/outputs/nightly/20250101-020304/report.md',
      ].map((text) => [{ tag: 'text', text }]),
    );
    expect(paragraphs.at(-1)).toEqual([
      { tag: 'at', user_id: 'ou_7d8a6e6df7621556ce0d21922b676706' },
      { tag: 'at', user_id: 'all' },
    ]);
  });

  it('dingtalk posts markdown with a title, and mentions by mobile number, user id or everyone', async () => {
    await sendOne({ url: urls.dingtalk(), kind: 'dingtalk', mention: ['13800001111', 'manager4521', 'all'] });
    const { url, body } = received();
    expect(url).toBe(`/robot/send?access_token=${DINGTALK_TOKEN}`);
    expect(body.msgtype).toBe('markdown');
    const markdown = body.markdown as { title: string; text: string };
    expect(markdown.title).toBe(TITLE);
    expect(markdown.text.split('\n\n')).toEqual([
      `#### ${TITLE}`,
      '**Model**: `Qwen3-8B` · vLLM 0.10.1.1 · took 12m 5s',
      '**Error**: `mcq: vLLM stopped answering`',
      '**Scores**',
      '- `iquiz`: 0.6125 (n=120, 2 errors)',
      '- `mcq`: FAILED (n=17)',
      '**Gates**',
      '- **FAIL** `iquiz.OVERALL.score`: iquiz OVERALL score 0.6125 is below min 0.65',
      '- pass `iquiz.error_rate`: iquiz error_rate 0.0167 ≤ max 0.05',
      '**Changes**',
      '- `iquiz`: 0.6583 → 0.6125 (-0.0458)',
      '**Report**: `/data/outputs/nightly/20250101-020304/report.md`',
      '@13800001111 @manager4521',
    ]);
    expect(body.at).toEqual({ atMobiles: ['13800001111'], atUserIds: ['manager4521'], isAtAll: true });
  });

  it('wecom posts markdown content, mentions as <@userid>', async () => {
    await sendOne({ url: urls.wecom(), kind: 'wecom', mention: ['zhangsan'] });
    const { url, body } = received();
    expect(url).toBe(`/cgi-bin/webhook/send?key=${WECOM_KEY}`);
    expect(body.msgtype).toBe('markdown');
    const lines = (body.markdown as { content: string }).content.split('\n');
    expect(lines[0]).toBe(`**${TITLE}**`);
    expect(lines).toContain('- `iquiz`: 0.6125 (n=120, 2 errors)');
    expect(lines).toContain('- **FAIL** `iquiz.OVERALL.score`: iquiz OVERALL score 0.6125 is below min 0.65');
    expect(lines.at(-1)).toBe('<@zhangsan>');
  });

  it('wecom keeps the content within its 4096 bytes, the report path and the mentions kept', () => {
    const manyEvals = noticeOf(
      failedRun({
        evals: Array.from({ length: 400 }, (_, index) => ({
          ...failedRun().evals[0]!,
          name: `subject-${index}`,
        })),
      }),
    );
    const { body } = notifierFor('wecom').render(
      manyEvals,
      target({ url: urls.wecom(), kind: 'wecom', mention: ['zhangsan'] }),
    );
    const content = (body as { markdown: { content: string } }).markdown.content;
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(4096);
    const lines = content.split('\n');
    expect(lines.at(-3)).toMatch(/^… \d+ more lines$/);
    expect(lines.slice(-2)).toEqual([
      '**Report**: `/data/outputs/nightly/20250101-020304/report.md`',
      '<@zhangsan>',
    ]);
  });

  it('feishu keeps the body within its 20 KB, the report path kept', () => {
    const manyEvals = noticeOf(
      failedRun({
        evals: Array.from({ length: 1000 }, (_, index) => ({
          ...failedRun().evals[0]!,
          name: `subject-${index}`,
        })),
      }),
    );
    const { body } = notifierFor('feishu').render(
      manyEvals,
      target({ url: urls.feishu(), kind: 'feishu', secret: SECRET, mention: ['all'] }),
    );
    expect(Buffer.byteLength(JSON.stringify(body))).toBeLessThanOrEqual(20 * 1024);
    const paragraphs = (body as { content: { post: { zh_cn: { content: { text?: string }[][] } } } }).content
      .post.zh_cn.content;
    expect(paragraphs.at(-3)?.[0]?.text).toMatch(/^… \d+ more lines$/);
    expect(paragraphs.at(-2)?.[0]?.text).toBe('Report: /data/outputs/nightly/20250101-020304/report.md');
  });

  it('slack posts text for notifications and blocks: a header, a mrkdwn section, the mentions', async () => {
    const withMarkup = noticeOf(failedRun({ error: 'model <Qwen3> & friends stopped' }));
    await sendNotifications(
      withMarkup,
      [target({ url: urls.slack(), kind: 'slack', mention: ['U024BE7LH', 'all'] })],
      {
        log,
      },
    );
    const { body } = received();
    expect(body.text).toBe(TITLE);
    const blocks = body.blocks as { type: string; text: { type: string; text: string } }[];
    expect(blocks.map((block) => [block.type, block.text.type])).toEqual([
      ['header', 'plain_text'],
      ['section', 'mrkdwn'],
      ['section', 'mrkdwn'],
    ]);
    expect(blocks[0]?.text.text).toBe(TITLE);
    expect(blocks[1]?.text.text.split('\n')).toEqual([
      '*Model*: `Qwen3-8B` · vLLM 0.10.1.1 · took 12m 5s',
      '*Error*: `model &lt;Qwen3&gt; &amp; friends stopped`',
      '*Scores*',
      '- `iquiz`: 0.6125 (n=120, 2 errors)',
      '- `mcq`: FAILED (n=17)',
      '*Report*: `/data/outputs/nightly/20250101-020304/report.md`',
    ]);
    expect(blocks[2]?.text.text).toBe('<@U024BE7LH> <!channel>');
  });
});

describe('signed webhooks', () => {
  it('dingtalk: timestamp (ms) and the url-encoded base64 HMAC-SHA256 of "timestamp\\nsecret" in the query', async () => {
    const before = Date.now();
    await sendOne({ url: urls.dingtalk(), kind: 'dingtalk', secret: SECRET });
    const after = Date.now();
    const { url } = received();
    const query = new URL(url, server.origin).searchParams;
    expect(query.get('access_token')).toBe(DINGTALK_TOKEN);
    const timestamp = query.get('timestamp') ?? '';
    expect(Number(timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(timestamp)).toBeLessThanOrEqual(after);
    const expected = createHmac('sha256', SECRET).update(`${timestamp}\n${SECRET}`, 'utf8').digest('base64');
    expect(query.get('sign')).toBe(expected);
    expect(url).toContain(`&sign=${encodeURIComponent(expected)}`);
  });

  it('feishu: timestamp (s) and sign in the body, HMAC-SHA256 keyed with "timestamp\\nsecret" over nothing', async () => {
    const before = Math.floor(Date.now() / 1000);
    await sendOne({ url: urls.feishu(), kind: 'feishu', secret: SECRET });
    const after = Math.ceil(Date.now() / 1000);
    const { body } = received();
    expect(body.timestamp).toEqual(expect.any(String));
    const timestamp = body.timestamp as string;
    expect(Number(timestamp)).toBeGreaterThanOrEqual(before);
    expect(Number(timestamp)).toBeLessThanOrEqual(after);
    const expected = createHmac('sha256', `${timestamp}\n${SECRET}`).update(Buffer.alloc(0)).digest('base64');
    expect(body.sign).toBe(expected);
    expect(body.msg_type).toBe('post');
  });

  describe('at a fixed time, as the platforms’ Python samples compute it', () => {
    beforeEach(() => {
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(1_700_000_000_000);
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    // hmac.new(secret, f"{ts}\n{secret}", sha256), base64, urllib.parse.quote_plus
    it('dingtalk', () => {
      const { url } = notifierFor('dingtalk').render(
        notice,
        target({
          url: 'https://oapi.dingtalk.com/robot/send?access_token=x',
          kind: 'dingtalk',
          secret: SECRET,
        }),
      );
      expect(url).toBe(
        'https://oapi.dingtalk.com/robot/send?access_token=x&timestamp=1700000000000&sign=06PSoNpOZgWnBQw9zOvYgnNnI7ffQa%2Fvjb3RKy%2BGJ1A%3D',
      );
    });

    // hmac.new(f"{ts}\n{secret}", b"", sha256), base64
    it('feishu', () => {
      const { body } = notifierFor('feishu').render(
        notice,
        target({ url: 'https://open.feishu.cn/open-apis/bot/v2/hook/x', kind: 'feishu', secret: SECRET }),
      );
      expect(body).toMatchObject({
        timestamp: '1700000000',
        sign: 'Q72i4f8DoMSZHwSMjPq7XjKmBIY7ZqWzpzzLDw+v560=',
      });
    });
  });
});

describe('delivery', () => {
  it.each([503, 429])('retries after a %i and succeeds', async (status) => {
    server.script.push(answer.text(status, 'busy'));
    await sendOne({ url: urls.slack(), kind: 'slack' });
    expect(server.requests).toHaveLength(2);
    expect(warnings).toEqual([]);
    expect(infos).toEqual([`notified the slack webhook ${server.origin}/services/***/***/***`]);
  });

  it('does not retry a 400, and says what the platform answered', async () => {
    server.script.push(answer.text(400, 'invalid_payload'));
    await sendOne({ url: urls.slack(), kind: 'slack' });
    expect(server.requests).toHaveLength(1);
    expect(infos).toEqual([]);
    expect(warnings).toEqual([
      `could not notify the slack webhook ${server.origin}/services/***/***/***: HTTP 400: invalid_payload`,
    ]);
  });

  it('gives up after its retries, and says how many attempts it made', async () => {
    server.script.push(...Array.from({ length: 3 }, () => answer.text(502, '')));
    await sendOne({ url: urls.json(), retries: 2 });
    expect(server.requests).toHaveLength(3);
    expect(warnings).toEqual([
      `could not notify the json webhook ${server.origin}/evalrig-hook: HTTP 502 (gave up after 3 attempts)`,
    ]);
  });

  it.each([
    [
      'dingtalk',
      { errcode: 310000, errmsg: 'sign not match' },
      'refused: sign not match (errcode 310000)',
      `/robot/send?access_token=***`,
    ],
    [
      'feishu',
      { code: 19021, data: {}, msg: 'sign match fail or timestamp is not within one hour from current time' },
      'refused: sign match fail or timestamp is not within one hour from current time (code 19021)',
      '/open-apis/bot/v2/hook/***',
    ],
    [
      'wecom',
      { errcode: 93000, errmsg: 'invalid webhook url' },
      'refused: invalid webhook url (errcode 93000)',
      '/cgi-bin/webhook/send?key=***',
    ],
  ] as const)(
    '%s: an error code in a 200 answer is a failure, not retried',
    async (kind, reply, reason, shown) => {
      server.script.push(answer.json(200, reply));
      await sendOne({ url: urls[kind](), kind, secret: kind === 'wecom' ? undefined : SECRET });
      expect(server.requests).toHaveLength(1);
      expect(infos).toEqual([]);
      expect(warnings).toEqual([`could not notify the ${kind} webhook ${server.origin}${shown}: ${reason}`]);
    },
  );

  it.each([
    ['dingtalk', { errcode: 0, errmsg: 'ok' }],
    ['feishu', { code: 0, data: {}, msg: 'success' }],
    ['wecom', { errcode: 0, errmsg: 'ok' }],
  ] as const)('%s: code 0 is success', async (kind, reply) => {
    server.script.push(answer.json(200, reply));
    await sendOne({ url: urls[kind](), kind });
    expect(warnings).toEqual([]);
    expect(infos).toHaveLength(1);
  });

  it('a server that never answers costs at most `timeout` per attempt', async () => {
    server.script.push(answer.never(), answer.never());
    const started = performance.now();
    await sendOne({ url: urls.feishu(), kind: 'feishu', timeout: '300ms', retries: 1 });
    const elapsed = performance.now() - started;
    expect(server.requests).toHaveLength(2);
    expect(elapsed).toBeGreaterThanOrEqual(590);
    // Far below the 10 s default per attempt, which an ignored `timeout` would wait out.
    expect(elapsed).toBeLessThan(5_000);
    expect(warnings).toEqual([
      `could not notify the feishu webhook ${server.origin}/open-apis/bot/v2/hook/***: no answer within 0.3 s (gave up after 2 attempts)`,
    ]);
  });

  it('a refused connection is a warning', async () => {
    const url = urls.dingtalk();
    await server.stop();
    server = await new WebhookServer().start();
    await sendOne({ url, kind: 'dingtalk', retries: 0 }).catch(() =>
      expect.fail('sendNotifications rejected'),
    );
    expect(warnings).toEqual([
      expect.stringMatching(
        /^could not notify the dingtalk webhook .*\/robot\/send\?access_token=\*\*\*: network error: /,
      ),
    ]);
  });

  it('masks the credentials where the platform quotes them back', async () => {
    server.script.push(answer.text(400, `bad request: access_token=${DINGTALK_TOKEN}, secret ${SECRET}`));
    await sendOne({ url: urls.dingtalk(), kind: 'dingtalk', secret: SECRET });
    expect(warnings).toEqual([
      `could not notify the dingtalk webhook ${server.origin}/robot/send?access_token=***: HTTP 400: bad request: access_token=***, secret ***`,
    ]);
  });

  it('posts to every target, one failing without holding up the others', async () => {
    server.script.push(answer.text(404, 'no such hook'));
    await sendNotifications(
      notice,
      [target({ url: urls.json() }), target({ url: urls.slack(), kind: 'slack' })],
      {
        log,
        retryDelayMs: 10,
      },
    );
    expect(server.requests).toHaveLength(2);
    expect(infos).toHaveLength(1);
    expect(warnings).toHaveLength(1);
  });
});

describe('notifyRun', () => {
  function targets(): NotifyTarget[] {
    return (['failure', 'gate', 'always'] as const).map((on) =>
      target({ url: `${server.origin}/${on}`, on }),
    );
  }

  const pathsPosted = () => server.requests.map((request) => request.url).sort();

  it('an ok run: only `always`', async () => {
    await notifyRun(okRun(), targets(), log);
    expect(pathsPosted()).toEqual(['/always']);
  });

  it('a failed run: `failure` and `always`', async () => {
    await notifyRun(failedRun(), targets(), log);
    expect(pathsPosted()).toEqual(['/always', '/failure']);
  });

  it('an ok run whose gate failed: all three, with the verdict and the change in the message', async () => {
    const gate: GateVerdict = {
      name: 'iquiz-drop',
      check: 'max_drop',
      passed: false,
      judged: true,
      eval: 'iquiz',
      subset: 'OVERALL',
      metric: 'score',
      threshold: 0.05,
      value: 0.6125,
      compared_with: { run_dir: '/data/outputs/nightly/20241231-020304', kind: 'previous' },
      compared_value: 0.6583,
      drop: 0.0458,
      z: null,
      detail: 'score fell 0.0458 (0.6583 → 0.6125), more than 0.05 allows',
    };
    const run = okRun({
      gates: [gate],
      evals: [{ ...evalSummary({ name: 'iquiz' }), score: 0.6125, delta: -0.0458 }],
    });
    await notifyRun(run, targets(), log);
    expect(pathsPosted()).toEqual(['/always', '/failure', '/gate']);
    const body = JSON.stringify(server.requests[0]?.body);
    expect(body).toContain('iquiz-drop');
    expect(body).toContain('0.6583');
  });

  it('a plan without notify: nothing', async () => {
    await notifyRun(failedRun(), undefined, log);
    expect(server.requests).toEqual([]);
    expect([...infos, ...warnings]).toEqual([]);
  });
});
