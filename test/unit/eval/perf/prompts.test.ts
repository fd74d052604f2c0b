import { describe, expect, it } from 'vitest';
import { calibratedPrompt, drawLength, mulberry32 } from '../../../../src/eval/perf/prompts.js';
import { counterChanges, parsePrometheus } from '../../../../src/eval/perf/server-metrics.js';
import { serverRoot } from '../../../../src/eval/perf/evaluator.js';

/** A stand-in tokenizer: a 10-token template, and "you" costs two tokens, as a BPE vocabulary may split a word. */
const countTokens = (text: string) =>
  Promise.resolve(
    10 +
      text
        .split(' ')
        .filter(Boolean)
        .reduce((sum, word) => sum + (word === 'you' ? 2 : 1), 0),
  );

describe('calibratedPrompt', () => {
  it('lands on the exact length even when words cost more than one token', async () => {
    for (const target of [11, 40, 257]) {
      const text = await calibratedPrompt(mulberry32(target), target, countTokens);
      expect(await countTokens(text)).toBe(target);
    }
  });

  it('refuses a length below what the template alone costs, naming the least that works', async () => {
    await expect(calibratedPrompt(mulberry32(1), 5, countTokens)).rejects.toThrow(
      /input_tokens 5 is too short: the chat template alone costs 10 tokens; set input_tokens to 11 or more/,
    );
    const least = await calibratedPrompt(mulberry32(1), 11, countTokens);
    expect(await countTokens(least)).toBe(11);
  });
});

describe('drawLength', () => {
  it('stays within [L·(1−r), L·(1+r)] and is fixed without a range', () => {
    const random = mulberry32(3);
    const lengths = Array.from({ length: 200 }, () => drawLength(random, 100, 0.5));
    expect(Math.min(...lengths)).toBeGreaterThanOrEqual(50);
    expect(Math.max(...lengths)).toBeLessThanOrEqual(150);
    expect(drawLength(random, 100, 0)).toBe(100);
  });
});

describe('server metrics', () => {
  const text = (requests: number, kv: number) =>
    [
      '# TYPE vllm:request_success_total counter',
      `vllm:request_success_total{engine="0",finished_reason="stop"} ${requests}`,
      'vllm:request_success_total{engine="0",finished_reason="length"} 1.0',
      'vllm:request_success_created{engine="0",finished_reason="stop"} 1.7e9',
      `vllm:kv_cache_usage_perc{engine="0"} ${kv}`,
    ].join('\n');

  it('sums samples over labels and gives the changes over a level', () => {
    expect(parsePrometheus(text(4, 0)).get('vllm:request_success_total')).toBe(5);
    const changes = counterChanges(
      parsePrometheus(text(4, 0)),
      parsePrometheus(text(9, 0.4)),
      parsePrometheus(text(12, 0)),
    );
    expect(changes).toEqual({
      requests: 8,
      prompt_tokens: null,
      generation_tokens: null,
      preemptions: null,
      kv_cache_usage: 0.4,
    });
    expect(counterChanges(null, null, parsePrometheus(text(1, 0)))).toBeNull();
  });

  it('finds the server root beside /v1', () => {
    expect(serverRoot('http://127.0.0.1:8000/v1')).toBe('http://127.0.0.1:8000');
    expect(serverRoot('http://host/v1/')).toBe('http://host');
  });
});
