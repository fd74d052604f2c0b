import { APIConnectionError, APIConnectionTimeoutError, APIError, InternalServerError } from 'openai';
import { describe, expect, it } from 'vitest';
import {
  buildChatRequest,
  describeRequestError,
  scoreCompletion,
} from '../../../../src/eval/native/runner.js';
import { GenerationSchema } from '../../../../src/plan/schema.js';
import type { Sample } from '../../../../src/datasets/types.js';

const sample: Sample = {
  id: 'IQ-3',
  subset: 'IQ',
  question: '1+1?',
  choices: ['1', '2', '3'],
  answer: 'B',
  meta: {},
};
const defaults = GenerationSchema.parse({});

describe('buildChatRequest', () => {
  it('sends the prompt as the only user message, with the plan settings and vLLM extensions in the body', () => {
    const settings = {
      max_tokens: 512,
      temperature: 0.7,
      top_p: 0.8,
      top_k: 20,
      min_p: 0,
      presence_penalty: 1.5,
      seed: 42,
      chat_template_kwargs: { enable_thinking: false },
    };
    const generation = GenerationSchema.parse(settings);
    expect(JSON.parse(JSON.stringify(buildChatRequest('Qwen3-8B', 'PROMPT', generation)))).toEqual({
      model: 'Qwen3-8B',
      messages: [{ role: 'user', content: 'PROMPT' }],
      ...settings,
    });
  });

  it('leaves unset settings out, so the server defaults apply', () => {
    expect(JSON.parse(JSON.stringify(buildChatRequest('m', 'p', defaults)))).toEqual({
      model: 'm',
      messages: [{ role: 'user', content: 'p' }],
    });
  });
});

describe('scoreCompletion', () => {
  const completion = (content: string | null, finishReason = 'stop', extra = {}) => ({
    message: { content, ...extra },
    finishReason,
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    ttftMs: 12,
  });

  it('scores a correct answer and keeps what the record needs', () => {
    expect(scoreCompletion(sample, 'P', completion('1+1=2\n答案：B'))).toEqual({
      id: 'IQ-3',
      subset: 'IQ',
      prompt: 'P',
      content: '1+1=2\n答案：B',
      reasoning: null,
      extracted: 'B',
      gold: 'B',
      correct: true,
      finish_reason: 'stop',
      truncated: false,
      error: null,
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
      ttft_ms: 12,
    });
  });

  it('extracts from content only, never from reasoning', () => {
    const record = scoreCompletion(sample, 'P', completion(null, 'stop', { reasoning_content: '答案：B' }));
    expect(record).toMatchObject({ content: null, reasoning: '答案：B', extracted: null, correct: false });
  });

  it('strips inline thinking before extracting', () => {
    const record = scoreCompletion(sample, 'P', completion('<think>答案：A？</think>\n答案：B'));
    expect(record).toMatchObject({ reasoning: '答案：A？', extracted: 'B', correct: true });
  });

  it('marks a length stop without an answer as truncated, and wrong', () => {
    const record = scoreCompletion(sample, 'P', completion('<think>还在想', 'length'));
    expect(record).toMatchObject({
      truncated: true,
      correct: false,
      extracted: null,
      finish_reason: 'length',
    });
  });

  it('does not mark a length stop that still gave an answer as truncated', () => {
    expect(scoreCompletion(sample, 'P', completion('答案：C', 'length'))).toMatchObject({
      truncated: false,
      extracted: 'C',
      correct: false,
    });
  });

  it('makes an empty, wrong record when there was no completion', () => {
    expect(scoreCompletion(sample, 'P', null)).toMatchObject({
      content: null,
      reasoning: null,
      extracted: null,
      correct: false,
      finish_reason: null,
      truncated: false,
      usage: null,
      ttft_ms: null,
    });
  });
});

describe('describeRequestError', () => {
  const settings = { timeout: 600, retries: 2 };

  it('gives the HTTP status and the response body', () => {
    const error = new InternalServerError(
      500,
      { message: 'engine dead', code: 500 },
      undefined,
      new Headers(),
    );
    expect(describeRequestError(error, settings)).toBe('HTTP 500: {"message":"engine dead","code":500}');
  });

  it('keeps the status line when the body was not JSON', () => {
    const error = APIError.generate(502, undefined, 'Bad Gateway', new Headers());
    expect(describeRequestError(error, settings)).toBe('HTTP 502 Bad Gateway');
  });

  it('says what failed without a response', () => {
    expect(describeRequestError(new APIConnectionTimeoutError(), settings)).toBe(
      'timed out after 600s (3 attempts)',
    );
    const refused = new APIConnectionError({ cause: new Error('connect ECONNREFUSED 127.0.0.1:8000') });
    expect(describeRequestError(refused, { timeout: 5, retries: 0 })).toBe(
      'connection failed (1 attempt): connect ECONNREFUSED 127.0.0.1:8000',
    );
  });

  it('reports an error event inside a stream', () => {
    const error = new APIError(undefined, { message: 'out of KV cache' }, undefined, undefined);
    expect(describeRequestError(error, settings)).toBe(
      'error in the response stream: {"message":"out of KV cache"}',
    );
  });

  it('falls back to the message of anything else', () => {
    expect(describeRequestError(new Error('the response stream did not finish within 5s'), settings)).toBe(
      'the response stream did not finish within 5s',
    );
  });
});
