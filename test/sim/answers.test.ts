import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { type SimHandle, killAllSims, startReadySim, tempDir } from './helpers.js';

// EvalScope's Chinese multiple-choice template: CHINESE_SINGLE_ANSWER_TEMPLATE_COT in EvalScope's
// evalscope/utils/multi_choices.py.
function prompt(question: string, choices: readonly string[]): string {
  const letters = choices.map((_, i) => String.fromCharCode(65 + i));
  return `回答下面的单项选择题，请选出其中的正确答案。你的回答的最后一行应该是这样的格式："答案：[LETTER]"（不带引号），其中 [LETTER] 是 ${letters.join(',')} 中的一个。请在回答前进行一步步思考。\n\n问题：${question}\n选项：\n${choices.map((c, i) => `${letters[i]}) ${c}`).join('\n')}\n`;
}

interface Item {
  question: string;
  choices: string[];
  answer: string;
}

function items(n: number): Item[] {
  return Array.from({ length: n }, (_, i) => {
    const size = 2 + (i % 4); // 2..5 options
    return {
      question: `第${i}题：${i}加${i * 7}等于多少？`,
      choices: Array.from({ length: size }, (_, k) => String(i * 8 + k - 1)),
      answer: String.fromCharCode(65 + ((i * 5) % size)),
    };
  });
}

function keyFile(list: readonly Item[]): string {
  const path = join(tempDir(), 'key.jsonl');
  writeFileSync(
    path,
    list.map((it) => JSON.stringify({ question: it.question, answer: it.answer })).join('\n') + '\n',
  );
  return path;
}

async function answer(
  sim: SimHandle,
  text: string,
  seed?: number,
): Promise<{ letter: string; content: string }> {
  const openai = new OpenAI({ baseURL: `${sim.baseUrl}/v1`, apiKey: 'none', maxRetries: 0 });
  const r = await openai.chat.completions.create({
    model: '/models/Qwen3-8B',
    messages: [{ role: 'user', content: text }],
    ...(seed === undefined ? {} : { seed }),
  });
  const content = r.choices[0]?.message.content ?? '';
  return { letter: /答案：([A-Z])$/.exec(content)?.[1] ?? '?', content };
}

async function answerAll(sim: SimHandle, list: readonly Item[]): Promise<string[]> {
  return Promise.all(list.map(async (it) => (await answer(sim, prompt(it.question, it.choices))).letter));
}

afterEach(killAllSims);

describe('answers', () => {
  it('is right about as often as VLLM_SIM_ACCURACY says, and wrong answers are valid letters', async () => {
    const list = items(300);
    const sim = await startReadySim({
      env: { VLLM_SIM_ANSWER_KEY: keyFile(list), VLLM_SIM_ACCURACY: '0.7' },
      args: ['--disable-log-requests'],
    });
    const letters = await answerAll(sim, list);
    const right = letters.filter((l, i) => l === list[i]?.answer).length;
    expect(right / list.length).toBeGreaterThan(0.62);
    expect(right / list.length).toBeLessThan(0.78);
    letters.forEach((l, i) =>
      expect(list[i]?.choices.map((_, k) => String.fromCharCode(65 + k))).toContain(l),
    );
    // Deterministic: the same question gives the same reply again.
    const again = await answer(sim, prompt(list[0]?.question ?? '', list[0]?.choices ?? []));
    expect(again.letter).toBe(letters[0]);
  });

  it('decides from VLLM_SIM_SEED, the question and the request seed', async () => {
    const list = items(40);
    const key = keyFile(list);
    const [a, b, c] = await Promise.all(
      ['0', '0', '7'].map((seed) =>
        startReadySim({ env: { VLLM_SIM_ANSWER_KEY: key, VLLM_SIM_ACCURACY: '0.5', VLLM_SIM_SEED: seed } }),
      ),
    );
    const [la, lb, lc] = await Promise.all([a, b, c].map((s) => answerAll(s as SimHandle, list)));
    expect(la).toEqual(lb);
    expect(la).not.toEqual(lc);
    const text = prompt(list[1]?.question ?? '', list[1]?.choices ?? []);
    const first = await answer(a as SimHandle, text, 42);
    expect((await answer(b as SimHandle, text, 42)).content).toBe(first.content);
    const bySeed = await Promise.all([1, 2, 3, 4, 5, 6].map((seed) => answer(a as SimHandle, text, seed)));
    expect(new Set(bySeed.map((r) => r.content)).size).toBeGreaterThan(1);
  });

  it('reads a folder of dataset files (IQuiz layout) and matches on the question', async () => {
    const dir = join(tempDir(), 'iquiz');
    mkdirSync(dir);
    const iq = {
      question: '数字9.8和9.11哪个大？',
      choices: ['一样大', '无法比较', '9.8', '9.11'],
      answer: 'C',
      level: 1,
    };
    const eq = {
      question: '朋友向你借钱，你会怎么办？',
      choices: ['借', '不借', '看情况'],
      answer: 'C',
      level: 2,
    };
    writeFileSync(join(dir, 'IQ.jsonl'), `${JSON.stringify(iq)}\n`);
    writeFileSync(join(dir, 'EQ.jsonl'), `${JSON.stringify(eq)}\n`);
    writeFileSync(join(dir, 'README.md'), 'not a key');
    const sim = await startReadySim({ env: { VLLM_SIM_ANSWER_KEY: dir, VLLM_SIM_ACCURACY: '1' } });
    expect((await answer(sim, prompt(iq.question, iq.choices))).letter).toBe('C');
    expect((await answer(sim, prompt(eq.question, eq.choices))).letter).toBe('C');
    // Another template: found because the prompt contains the key's question.
    const other = `Question: ${iq.question}\nA) 一样大\nB) 无法比较\nC) 9.8\nD) 9.11\nAnswer:`;
    expect((await answer(sim, other)).letter).toBe('C');
    // Not in the key: still a valid, deterministic letter.
    const unknown = prompt('一个不在答案表里的问题？', ['甲', '乙']);
    const guess = await answer(sim, unknown);
    expect(['A', 'B']).toContain(guess.letter);
    expect((await answer(sim, unknown)).letter).toBe(guess.letter);
  });

  it('prefers a replayed reply and places its reasoning by the parser rules', async () => {
    const item = items(1)[0] as Item;
    const text = prompt(item.question, item.choices);
    const replay = join(tempDir(), 'replay.jsonl');
    writeFileSync(
      replay,
      [
        JSON.stringify({ prompt: text, content: '重放的回答。\n\n答案：Z', reasoning: '重放的思考' }),
        JSON.stringify({
          prompt: 'plain',
          content: 'no thinking here',
          reasoning: null,
          finish_reason: 'length',
        }),
      ].join('\n'),
    );
    const env = { VLLM_SIM_ANSWER_KEY: keyFile([item]), VLLM_SIM_ACCURACY: '1', VLLM_SIM_REPLAY: replay };
    const [withParser, without] = await Promise.all([
      startReadySim({ env, args: ['--reasoning-parser', 'qwen3'] }),
      startReadySim({ env }),
    ]);
    const post = async (sim: SimHandle, content: string) => {
      const res = await fetch(`${sim.baseUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ messages: [{ role: 'user', content }] }),
      });
      return (
        (await res.json()) as { choices: Array<{ message: Record<string, unknown>; finish_reason: string }> }
      ).choices[0];
    };
    expect((await post(withParser, text))?.message).toMatchObject({
      content: '重放的回答。\n\n答案：Z',
      reasoning: '重放的思考',
    });
    expect((await post(without, text))?.message).toMatchObject({
      content: '<think>重放的思考</think>重放的回答。\n\n答案：Z',
      reasoning: null,
    });
    expect(await post(without, 'plain')).toMatchObject({
      message: { content: 'no thinking here' },
      finish_reason: 'length',
    });
  });
});
