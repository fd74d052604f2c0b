import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimHandle, killAllSims, startReadySim } from './helpers.js';

// vLLM's length controls beyond max_tokens: ignore_eos (generate to max_tokens, as load tests want) and min_tokens.

let sim: SimHandle;
const MAX_MODEL_LEN = 2048;
const MESSAGES = [{ role: 'user' as const, content: 'hello' }];

beforeAll(async () => {
  sim = await startReadySim({
    args: ['--served-model-name', 'm', '--max-model-len', String(MAX_MODEL_LEN)],
    env: { VLLM_SIM_THINKING: '0' },
  });
});
afterAll(killAllSims);

function client(): OpenAI {
  return new OpenAI({ baseURL: `${sim.baseUrl}/v1`, apiKey: 'none', maxRetries: 0 });
}

type Extra = { ignore_eos?: unknown; min_tokens?: unknown; max_tokens?: number };

function create(extra: Extra): Promise<OpenAI.ChatCompletion> {
  return client().chat.completions.create({
    model: 'm',
    messages: MESSAGES,
    ...(extra as { max_tokens?: number }),
  });
}

/** How many tokens the simulated model says on its own, ending with finish_reason stop. */
async function naturalLength(): Promise<number> {
  const reply = await create({});
  expect(reply.choices[0]?.finish_reason).toBe('stop');
  return reply.usage?.completion_tokens ?? 0;
}

describe('ignore_eos and min_tokens', () => {
  it('with ignore_eos generates exactly max_tokens and finishes by length', async () => {
    const natural = await naturalLength();
    const reply = await create({ ignore_eos: true, max_tokens: natural * 3 });
    expect(reply.usage?.completion_tokens).toBe(natural * 3);
    expect(reply.choices[0]?.finish_reason).toBe('length');
    // Even where the model would have stopped on its own at max_tokens, vLLM reports the cut.
    const exact = await create({ ignore_eos: true, max_tokens: natural });
    expect(exact.usage?.completion_tokens).toBe(natural);
    expect(exact.choices[0]?.finish_reason).toBe('length');
  });

  it('streams the extended output: usage and the chunks both count max_tokens', async () => {
    const natural = await naturalLength();
    const stream = await client().chat.completions.create({
      model: 'm',
      messages: MESSAGES,
      max_tokens: natural + 7,
      stream: true,
      stream_options: { include_usage: true },
      ...({ ignore_eos: true } as object),
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | undefined;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(usage?.completion_tokens).toBe(natural + 7);
    expect(finish).toBe('length');
    const whole = await create({ ignore_eos: true, max_tokens: natural + 7 });
    expect(text).toBe(whole.choices[0]?.message.content);
  });

  it('with ignore_eos and no max_tokens fills the context, as vLLM does', async () => {
    const reply = await create({ ignore_eos: true });
    const usage = reply.usage;
    expect((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0)).toBe(MAX_MODEL_LEN);
    expect(reply.choices[0]?.finish_reason).toBe('length');
  });

  it('with min_tokens generates at least that many, then stops on its own', async () => {
    const natural = await naturalLength();
    const longer = await create({ min_tokens: natural * 2, max_tokens: natural * 4 });
    expect(longer.usage?.completion_tokens).toBe(natural * 2);
    expect(longer.choices[0]?.finish_reason).toBe('stop');
    const shorter = await create({ min_tokens: 1 });
    expect(shorter.usage?.completion_tokens).toBe(natural);
  });

  it("rejects bad values with vLLM's 400 messages", async () => {
    const post = (body: object) =>
      fetch(`${sim.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', messages: MESSAGES, ...body }),
      });
    const above = await post({ min_tokens: 10, max_tokens: 5 });
    expect(above.status).toBe(400);
    expect(await above.text()).toContain('min_tokens must be less than or equal to max_tokens=5, got 10.');
    const negative = await post({ min_tokens: -1 });
    expect(negative.status).toBe(400);
    expect(await negative.text()).toContain('min_tokens must be greater than or equal to 0, got -1.');
    const notBool = await post({ ignore_eos: 'maybe' });
    expect(notBool.status).toBe(400);
    expect(await notBool.text()).toContain('Input should be a valid boolean, unable to interpret input');
    // pydantic's lax booleans: "yes" is true.
    const words = await create({ ignore_eos: 'yes', max_tokens: 50 });
    expect(words.usage?.completion_tokens).toBe(50);
  });
});
