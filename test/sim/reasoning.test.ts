import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseVersion } from '../../src/util/pep440.js';
import { reasoningFields } from '../../src/vllm/rules.js';
import { type SimHandle, killAllSims, startReadySim } from './helpers.js';

// Reasoning placement per version and parser (docs/vllm-versions.md §2, §3).

const QUESTION =
  '回答下面的单项选择题，请选出其中的正确答案。你的回答的最后一行应该是这样的格式："答案：[LETTER]"（不带引号），其中 [LETTER] 是 A,B 中的一个。请在回答前进行一步步思考。\n\n问题：马上要上游泳课了，昨天洗的泳裤还没干，怎么办？\n选项：\nA) 穿湿泳裤去游泳\nB) 等泳裤干了再穿\n';

type Message = Record<string, unknown> & { content: string | null };
interface Completion {
  choices: Array<{ message: Message; finish_reason: string }>;
}
interface Chunk {
  choices: Array<{ delta: Record<string, unknown>; finish_reason: string | null }>;
}

const sims: Record<string, SimHandle> = {};

async function chat(name: string, extra: Record<string, unknown> = {}): Promise<Completion['choices'][0]> {
  const res = await fetch(`${sims[name]?.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'Qwen3-8B', messages: [{ role: 'user', content: QUESTION }], ...extra }),
  });
  expect(res.status).toBe(200);
  const body = (await res.json()) as Completion;
  return body.choices[0] as Completion['choices'][0];
}

async function stream(name: string, extra: Record<string, unknown> = {}): Promise<Chunk['choices']> {
  const res = await fetch(`${sims[name]?.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'Qwen3-8B',
      messages: [{ role: 'user', content: QUESTION }],
      stream: true,
      ...extra,
    }),
  });
  const events = (await res.text()).split('\n\n').filter((e) => e && e !== 'data: [DONE]');
  return events.flatMap((e) => (JSON.parse(e.slice(6)) as Chunk).choices);
}

const joined = (choices: Chunk['choices'], key: string): string =>
  choices.map((c) => (c.delta[key] as string | undefined) ?? '').join('');

beforeAll(async () => {
  const base = ['--served-model-name', 'Qwen3-8B'];
  const start = async (name: string, version: string, args: string[]) => {
    sims[name] = await startReadySim({ args: [...base, ...args], env: { VLLM_SIM_VERSION: version } });
  };
  await Promise.all([
    start('0.8.5', '0.8.5', ['--enable-reasoning', '--reasoning-parser', 'deepseek_r1']),
    start('0.8.5-no-flag', '0.8.5', ['--reasoning-parser', 'deepseek_r1']),
    start('0.9.2', '0.9.2', ['--reasoning-parser', 'deepseek_r1']),
    start('0.11.1', '0.11.1', ['--reasoning-parser', 'qwen3']),
    start('0.17.1', '0.17.1', ['--reasoning-parser', 'deepseek_r1']),
    start('0.17.1-none', '0.17.1', []),
  ]);
});
afterAll(killAllSims);

describe('reasoning output', () => {
  it('0.8.5 puts the thinking in reasoning_content (vllm-versions §3.1, §9)', async () => {
    const c = await chat('0.8.5');
    expect(Object.keys(c.message)).toEqual(['role', 'reasoning_content', 'content', 'tool_calls']);
    expect(c.message.reasoning_content).toMatch(/^\n.+\n$/s);
    expect(c.message.content).toMatch(/^\n\n.*答案：[AB]$/s);
  });

  it('0.8.5 uses the parser only together with --enable-reasoning', async () => {
    const c = await chat('0.8.5-no-flag');
    expect(c.message.reasoning_content).toBeNull();
    expect(c.message.content).toMatch(/^<think>\n/);
  });

  it('0.11.1 sends reasoning and reasoning_content with identical text', async () => {
    const c = await chat('0.11.1');
    expect(c.message.reasoning).toEqual(c.message.reasoning_content);
    expect(c.message.reasoning).toMatch(/^\n.+\n$/s);
    expect(c.message.content).not.toContain('<think>');
    const deltas = await stream('0.11.1');
    const thinking = deltas.filter((d) => typeof d.delta.reasoning === 'string');
    expect(thinking.length).toBeGreaterThan(0);
    expect(thinking.every((d) => d.delta.reasoning === d.delta.reasoning_content)).toBe(true);
    expect(
      deltas
        .filter((d) => typeof d.delta.content === 'string' && d.delta.content !== '')
        .every((d) => d.delta.reasoning_content === null),
    ).toBe(true);
  });

  it('0.17.1 sends reasoning only', async () => {
    const c = await chat('0.17.1');
    expect(c.message.reasoning).toMatch(/^\n.+\n$/s);
    expect('reasoning_content' in c.message).toBe(false);
    const deltas = await stream('0.17.1');
    expect(deltas.some((d) => 'reasoning_content' in d.delta)).toBe(false);
    expect(joined(deltas, 'reasoning')).toBe(c.message.reasoning);
    expect(joined(deltas, 'content')).toBe(c.message.content);
  });

  it('without a parser keeps <think>…</think> inline at the start of content', async () => {
    const c = await chat('0.17.1-none');
    expect(c.message.reasoning).toBeNull();
    expect(c.message.content).toMatch(/^<think>\n.+\n<\/think>\n\n.+\n\n答案：[AB]$/s);
  });

  it('a cut before </think> gives content null and finish_reason length; streams no content', async () => {
    for (const name of ['0.8.5', '0.11.1', '0.17.1']) {
      const c = await chat(name, { max_tokens: 10 });
      expect(c.finish_reason, name).toBe('length');
      expect(c.message.content, name).toBeNull();
    }
    const deltas = await stream('0.17.1', { max_tokens: 10 });
    expect(deltas.filter((d) => d.delta.content)).toEqual([]);
    expect(deltas[deltas.length - 1]?.finish_reason).toBe('length');
    expect(joined(deltas, 'reasoning').length).toBeGreaterThan(0);
  });

  it('chat_template_kwargs enable_thinking=false turns thinking off', async () => {
    for (const name of ['0.11.1', '0.17.1', '0.17.1-none']) {
      const c = await chat(name, { chat_template_kwargs: { enable_thinking: false } });
      expect(c.message.content, name).toMatch(/^根据以上分析.*\n\n答案：[AB]$/s);
      expect(c.message.reasoning ?? null, name).toBeNull();
    }
  });

  it('≤0.9 deepseek_r1 with thinking off puts the answer in reasoning_content, content null (vllm-versions §3.3)', async () => {
    const c = await chat('0.9.2', { chat_template_kwargs: { enable_thinking: false } });
    expect(c.message.content).toBeNull();
    expect(c.message.reasoning_content).toMatch(/答案：[AB]$/);
  });

  // The simulator's rule table (sim/src/versions.ts) must agree with evalrig's (VLLM_RULES), so that a
  // boundary moved in one is caught here rather than by a real vLLM.
  it("sends exactly the reasoning keys that evalrig's reasoningFields() expects, on each side of every boundary", async () => {
    const cases: Array<[string, string[]]> = [
      // 0.8.5 has no qwen3 parser, and its parser only works together with --enable-reasoning.
      ['0.8.5', ['--enable-reasoning', '--reasoning-parser', 'deepseek_r1']],
      ['0.11.0', ['--reasoning-parser', 'qwen3']],
      ['0.11.1', ['--reasoning-parser', 'qwen3']],
      ['0.15.1', ['--reasoning-parser', 'qwen3']],
      ['0.16.0', ['--reasoning-parser', 'qwen3']],
      ['0.17.1', ['--reasoning-parser', 'qwen3']],
    ];
    await Promise.all(
      cases.map(async ([version, args]) => {
        const name = `fields-${version}`;
        sims[name] = await startReadySim({
          args: ['--served-model-name', 'Qwen3-8B', ...args],
          env: { VLLM_SIM_VERSION: version },
        });
        const { message } = await chat(name);
        const present = (['reasoning', 'reasoning_content'] as const).filter(
          (key) => message[key] !== undefined && message[key] !== null,
        );
        expect(new Set(present), version).toEqual(new Set(reasoningFields(parseVersion(version))));
      }),
    );
  });
});
