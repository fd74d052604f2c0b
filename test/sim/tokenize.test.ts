import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SimHandle, killAllSims, startReadySim } from './helpers.js';

let sim: SimHandle;

beforeAll(async () => {
  sim = await startReadySim({
    args: ['--served-model-name', 'Qwen3-8B', '--max-model-len', '4096', '--api-key', 'sk-test'],
  });
});
afterAll(killAllSims);

async function tokenize(body: unknown): Promise<Response> {
  return fetch(`${sim.baseUrl}/tokenize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('POST /tokenize', () => {
  it("answers vLLM's TokenizeResponse for a prompt, outside the /v1 key check", async () => {
    const response = await tokenize({ model: 'Qwen3-8B', prompt: 'the cat sat', return_token_strs: true });
    expect(response.status).toBe(200);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['count', 'max_model_len', 'tokens', 'token_strs']);
    expect(body).toMatchObject({ count: 3, max_model_len: 4096, token_strs: ['the', ' cat', ' sat'] });
    expect(body.tokens).toHaveLength(3);
  });

  it('counts a chat request as the chat endpoint counts its prompt_tokens', async () => {
    const messages = [{ role: 'user', content: 'one two six ten' }];
    const counted = (await (await tokenize({ messages })).json()) as { count: number; token_strs: unknown };
    expect(counted.token_strs).toBeNull();
    const chat = await fetch(`${sim.baseUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
      body: JSON.stringify({ messages, max_tokens: 1 }),
    });
    const { usage } = (await chat.json()) as { usage: { prompt_tokens: number } };
    expect(counted.count).toBe(usage.prompt_tokens);
    const withoutPrompt = (await (await tokenize({ messages, add_generation_prompt: false })).json()) as {
      count: number;
    };
    expect(withoutPrompt.count).toBe(counted.count - 3);
  });

  it('refuses an unknown model and a body without prompt or messages', async () => {
    expect((await tokenize({ model: 'nope', prompt: 'x' })).status).toBe(404);
    expect((await tokenize({ model: 'Qwen3-8B' })).status).toBe(400);
  });
});
