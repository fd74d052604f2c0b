import { describe, expect, it } from 'vitest';
import type { FixedPrompts } from '../../../../src/eval/perf/prompt-sources.js';
import { mulberry32 } from '../../../../src/eval/perf/prompts.js';
import { RequestBodies } from '../../../../src/eval/perf/request-bodies.js';
import { PlanSchema, type PerfEvalSpec } from '../../../../src/plan/schema.js';

/** A stand-in for POST /tokenize: a 5-token template, one token per word. */
const countTokens = (text: string) => Promise.resolve(5 + text.split(' ').filter(Boolean).length);

function spec(prompts: Record<string, unknown>): PerfEvalSpec {
  const plan = PlanSchema.parse({
    name: 't',
    server: { model: '/models/m' },
    evals: [{ name: 'load', backend: 'perf', prompts }],
  });
  return plan.evals[0] as PerfEvalSpec;
}

interface Body {
  messages: { content: string }[];
  max_tokens: number;
  ignore_eos?: boolean;
}

const parse = (body: string) => JSON.parse(body) as Body;

function take(bodies: Iterator<string>, count: number): Body[] {
  return Array.from({ length: count }, () => parse(bodies.next().value as string));
}

describe('RequestBodies', () => {
  it('sizes random prompts exactly and asks for output_tokens, ignoring EOS', async () => {
    const bodies = new RequestBodies({
      spec: spec({ input_tokens: 20, output_tokens: 7 }),
      model: 'm',
      random: mulberry32(1),
      countTokens,
      fixed: null,
    });
    const sent = (await bodies.counted(3)).map(parse);
    for (const body of sent) {
      expect(await countTokens(body.messages[0]?.content ?? '')).toBe(20);
      expect(body).toMatchObject({ max_tokens: 7, ignore_eos: true });
    }
  });

  it('reuses a timed level’s pool with a new first word each round: same length, no repeated prompt', async () => {
    const bodies = new RequestBodies({
      spec: spec({ input_tokens: 12, output_tokens: 4 }),
      model: 'm',
      random: mulberry32(2),
      countTokens,
      fixed: null,
    });
    // Concurrency 1: a pool of 64, so 192 requests go round it three times.
    const texts = take(await bodies.endless(1), 192).map((body) => body.messages[0]?.content ?? '');
    expect(new Set(texts).size).toBe(192);
    for (const text of texts) expect(await countTokens(text)).toBe(12);
    expect(texts[64]?.split(' ').slice(1)).toEqual(texts[0]?.split(' ').slice(1));
  });

  it('sends file prompts in a seeded order that continues across levels and starts over when used up', async () => {
    const fixed: FixedPrompts = {
      messages: ['a', 'b', 'c', 'd', 'e'].map((content) => [{ role: 'user', content }]),
      provenance: { name: 'prompts', files: [] },
    };
    const settings = { spec: spec({ file: 'p.jsonl' }), model: 'm', countTokens, fixed };
    const first = new RequestBodies({ ...settings, random: mulberry32(3) });
    const level1 = (await first.counted(3)).map((b) => parse(b).messages[0]?.content);
    const level2 = (await first.counted(4)).map((b) => parse(b).messages[0]?.content);
    expect(new Set([...level1, ...level2.slice(0, 2)]).size).toBe(5);
    expect(level2[2]).toBe(level1[0]);
    const again = new RequestBodies({ ...settings, random: mulberry32(3) });
    expect((await again.counted(3)).map((b) => parse(b).messages[0]?.content)).toEqual(level1);
  });
});
