import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimHandle, killAllSims, startReadySim } from './helpers.js';

const MCQ =
  '回答下面的单项选择题，请选出其中的正确答案。你的回答的最后一行应该是这样的格式："答案：[LETTER]"（不带引号），其中 [LETTER] 是 A,B,C,D 中的一个。请在回答前进行一步步思考。\n\n问题：明天的昨天是昨天的哪天？\n选项：\nA) 今天\nB) 明天\nC) 昨天\nD) 前天\n';

let sim: SimHandle; // 0.17.1, deepseek_r1, api key, served as Qwen3-8B
let legacy: SimHandle; // 0.8.5, no parser
let mid: SimHandle; // 0.11.0

const KEY = 'sk-test';

function client(s: SimHandle, apiKey = KEY): OpenAI {
  return new OpenAI({ baseURL: `${s.baseUrl}/v1`, apiKey, maxRetries: 0 });
}

async function post(s: SimHandle, body: unknown, auth = KEY): Promise<Response> {
  return fetch(`${s.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** Parses an SSE body into its `data:` payloads. */
function events(text: string): string[] {
  expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((e) => {
      expect(e.startsWith('data: ')).toBe(true);
      return e.slice(6);
    });
}

function metric(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return Number(line?.split(' ').pop());
}

beforeAll(async () => {
  [sim, legacy, mid] = await Promise.all([
    startReadySim({
      args: [
        '--served-model-name',
        'Qwen3-8B',
        'qwen',
        '--max-model-len',
        '4096',
        '--reasoning-parser',
        'deepseek_r1',
        '--api-key',
        KEY,
      ],
    }),
    startReadySim({
      args: ['--served-model-name', 'Qwen3-8B', '--max-model-len', '4096'],
      env: { VLLM_SIM_VERSION: '0.8.5' },
    }),
    startReadySim({
      args: ['--served-model-name', 'Qwen3-8B', '--max-model-len', '4096'],
      env: { VLLM_SIM_VERSION: '0.11.0' },
    }),
  ]);
});
afterAll(killAllSims);

describe('chat completions', () => {
  it('answers a multiple-choice prompt with the openai client (non-streamed)', async () => {
    const r = await client(sim).chat.completions.create({
      model: 'Qwen3-8B',
      messages: [{ role: 'user', content: MCQ }],
    });
    const content = r.choices[0]?.message.content ?? '';
    expect(content).toMatch(/\n答案：[ABCD]$/);
    expect(r.choices[0]?.finish_reason).toBe('stop');
    expect(r.id).toMatch(/^chatcmpl-[0-9a-f]{16}$/);
    expect(r.usage?.completion_tokens).toBeGreaterThan(40);
    // Any served name works; vLLM echoes it back.
    const alias = await client(sim).chat.completions.create({
      model: 'qwen',
      messages: [{ role: 'user', content: MCQ }],
    });
    expect(alias.model).toBe('qwen');
  });

  it('keeps vLLM key orders (usage: prompt_tokens, total_tokens, completion_tokens)', async () => {
    const body = (await (
      await post(legacy, { model: 'Qwen3-8B', messages: [{ role: 'user', content: 'hi' }] })
    ).json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual([
      'id',
      'object',
      'created',
      'model',
      'choices',
      'usage',
      'prompt_logprobs',
    ]);
    expect(Object.keys(body.usage as object)).toEqual([
      'prompt_tokens',
      'total_tokens',
      'completion_tokens',
      'prompt_tokens_details',
    ]);
    const modern = (await (
      await post(mid, { model: 'Qwen3-8B', messages: [{ role: 'user', content: 'hi' }] })
    ).json()) as Record<string, unknown>;
    expect(Object.keys(modern)).toEqual([
      'id',
      'object',
      'created',
      'model',
      'choices',
      'service_tier',
      'system_fingerprint',
      'usage',
      'prompt_logprobs',
      'prompt_token_ids',
      'kv_transfer_params',
    ]);
  });

  it('streams with the openai client: role chunk first, usage chunk with choices [] last', async () => {
    const stream = await client(sim).chat.completions.create({
      model: 'Qwen3-8B',
      messages: [{ role: 'user', content: MCQ }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    const last = chunks[chunks.length - 1];
    expect(last?.choices).toEqual([]);
    expect(Object.keys(last?.usage ?? {})).toEqual(['prompt_tokens', 'total_tokens', 'completion_tokens']);
    const finish = chunks.filter((c) => c.choices[0]?.finish_reason);
    expect(finish.map((c) => c.choices[0]?.finish_reason)).toEqual(['stop']);
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(content).toMatch(/\n答案：[ABCD]$/);
    expect(last?.usage?.completion_tokens).toBeGreaterThan(40);
  });

  it('sends raw SSE `data: <json>` events and `data: [DONE]`; no usage chunk without stream_options', async () => {
    const res = await post(sim, {
      model: 'Qwen3-8B',
      messages: [{ role: 'user', content: 'hello' }],
      stream: true,
    });
    expect(res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const payloads = events(await res.text());
    expect(payloads.pop()).toBe('[DONE]');
    const parsed = payloads.map((p) => JSON.parse(p) as { choices: unknown[]; usage?: unknown });
    expect(parsed.every((c) => c.choices.length === 1 && c.usage === undefined)).toBe(true);
    const withUsage = events(
      await (
        await post(sim, {
          model: 'Qwen3-8B',
          messages: [{ role: 'user', content: 'hello' }],
          stream: true,
          stream_options: { include_usage: true },
        })
      ).text(),
    );
    expect(JSON.parse(withUsage[withUsage.length - 2] ?? '{}')).toMatchObject({
      choices: [],
      usage: { prompt_tokens: expect.any(Number) },
    });
  });

  it('sets finish_reason length exactly when max_tokens cuts the output', async () => {
    const full = await client(legacy).chat.completions.create({
      model: 'Qwen3-8B',
      messages: [{ role: 'user', content: 'hello' }],
    });
    const n = full.usage?.completion_tokens ?? 0;
    const exact = await client(legacy).chat.completions.create({
      model: 'Qwen3-8B',
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: n,
    });
    expect(exact.choices[0]?.finish_reason).toBe('stop');
    const cut = await client(legacy).chat.completions.create({
      model: 'Qwen3-8B',
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: n - 1,
    });
    expect(cut.choices[0]?.finish_reason).toBe('length');
    expect(cut.usage?.completion_tokens).toBe(n - 1);
  });

  it('returns 404 for an unknown model: flat on 0.8.5, nested on 0.17.1 (vllm-versions §5.3)', async () => {
    const flat = await post(legacy, { model: 'gpt-4', messages: [{ role: 'user', content: 'x' }] });
    expect(flat.status).toBe(404);
    expect(await flat.json()).toEqual({
      object: 'error',
      message: 'The model `gpt-4` does not exist.',
      type: 'NotFoundError',
      param: null,
      code: 404,
    });
    const nested = await post(sim, { model: 'gpt-4', messages: [{ role: 'user', content: 'x' }] });
    expect(nested.status).toBe(404);
    expect(await nested.json()).toEqual({
      error: {
        message: 'The model `gpt-4` does not exist.',
        type: 'NotFoundError',
        param: 'model',
        code: 404,
      },
    });
  });

  it('returns the context-length 400 with each version’s wording, before streaming (vllm-versions §5.2)', async () => {
    const long = '字'.repeat(4000);
    const r1 = await post(legacy, {
      model: 'Qwen3-8B',
      messages: [{ role: 'user', content: long }],
      max_tokens: 500,
      stream: true,
    });
    expect(r1.status).toBe(400);
    const b1 = (await r1.json()) as { message: string; code: number; object: string };
    expect(b1.object).toBe('error');
    expect(b1.message).toMatch(
      /^This model's maximum context length is 4096 tokens\. However, you requested (\d+) tokens \((\d+) in the messages, 500 in the completion\)\. Please reduce the length of the messages or completion\.$/,
    );

    const r2 = await post(mid, {
      model: 'Qwen3-8B',
      messages: [{ role: 'user', content: long }],
      max_tokens: 500,
    });
    expect(r2.status).toBe(400);
    const b2 = (await r2.json()) as { error: { message: string; param: unknown; type: string } };
    expect(b2.error.type).toBe('BadRequestError');
    expect(b2.error.param).toBeNull();
    expect(b2.error.message).toMatch(
      /^'max_tokens' or 'max_completion_tokens' is too large: 500\. This model's maximum context length is 4096 tokens and your request has \d+ input tokens \(500 > 4096 - \d+\)\.$/,
    );

    const r3 = await post(sim, { model: 'Qwen3-8B', messages: [{ role: 'user', content: long + long }] });
    expect(r3.status).toBe(400);
    const b3 = (await r3.json()) as { error: { message: string; param: unknown } };
    expect(b3.error.param).toBe('input_tokens');
    expect(b3.error.message).toMatch(
      /^This model's maximum context length is 4096 tokens\. However, your request has \d+ input tokens\. Please reduce the length of the input messages\. \(parameter=input_tokens, value=\d+\)$/,
    );
    expect(b3.error.message).toMatch(/context length is (?:only )?(\d+) tokens/);
  });

  it('answers malformed JSON with 400', async () => {
    const r = await post(legacy, '{"model": ');
    expect(r.status).toBe(400);
    expect(await r.json()).toMatchObject({ object: 'error', type: 'BadRequestError', code: 400 });
    const missing = await post(sim, { model: 'Qwen3-8B' });
    expect(missing.status).toBe(400);
    expect(await missing.json()).toMatchObject({
      error: { type: 'Bad Request', param: 'body.messages', code: 400 },
    });
  });

  it('guards /v1 with --api-key; /health, /metrics, /version and /ping stay open (vllm-versions §4.4)', async () => {
    const denied = await fetch(`${sim.baseUrl}/v1/models`);
    expect(denied.status).toBe(401);
    expect(await denied.json()).toEqual({ error: 'Unauthorized' });
    const wrong = await post(sim, { model: 'Qwen3-8B', messages: [] }, 'nope');
    expect(wrong.status).toBe(401);
    for (const path of ['/health', '/metrics', '/version', '/ping'])
      expect((await fetch(`${sim.baseUrl}${path}`)).status, path).toBe(200);
    const models = await client(sim).models.list();
    expect(models.data.map((m) => m.id)).toEqual(['Qwen3-8B', 'qwen']);
    expect(sim.stdout()).toMatch(
      /INFO: {5}127\.0\.0\.1:\d+ - "GET \/v1\/models HTTP\/1\.1" 401 Unauthorized/,
    );
  });

  it('takes the key from VLLM_API_KEY too', async () => {
    const envKeyed = await startReadySim({ env: { VLLM_API_KEY: 'from-env' } });
    expect((await fetch(`${envKeyed.baseUrl}/v1/models`)).status).toBe(401);
    const ok = await fetch(`${envKeyed.baseUrl}/v1/models`, {
      headers: { authorization: 'Bearer from-env' },
    });
    expect(ok.status).toBe(200);
  });

  it('exposes /metrics whose series move with traffic', async () => {
    const before = await (await fetch(`${mid.baseUrl}/metrics`)).text();
    expect(before).toContain('# TYPE vllm:num_requests_running gauge');
    expect(before).toMatch(/^vllm:num_requests_running\{engine="0",model_name="Qwen3-8B"\} 0\.0$/m);
    expect(before).toContain('vllm:kv_cache_usage_perc{');
    expect(before).toContain('vllm:gpu_cache_usage_perc{'); // still there before 0.12
    const r = await client(mid).chat.completions.create({
      model: 'Qwen3-8B',
      messages: [{ role: 'user', content: 'hello' }],
      max_tokens: 5,
    });
    const after = await (await fetch(`${mid.baseUrl}/metrics`)).text();
    const grew = (name: string, labels = '') => metric(after, name, labels) - metric(before, name, labels);
    expect(grew('vllm:prompt_tokens_total')).toBe(r.usage?.prompt_tokens);
    expect(grew('vllm:generation_tokens_total')).toBe(5);
    expect(grew('vllm:request_success_total', 'finished_reason="length"')).toBe(1);
    expect(after).toMatch(
      /^vllm:request_success_total\{engine="0",finished_reason="length",model_name="Qwen3-8B"\} \d+\.0$/m,
    );

    const old = await (await fetch(`${legacy.baseUrl}/metrics`)).text();
    expect(old).toMatch(/^vllm:num_requests_waiting\{model_name="Qwen3-8B"\} 0\.0$/m);
    expect(old).not.toContain('vllm:kv_cache_usage_perc');
    const current = await (await fetch(`${sim.baseUrl}/metrics`)).text();
    expect(current).not.toContain('vllm:gpu_cache_usage_perc');
  });
});
