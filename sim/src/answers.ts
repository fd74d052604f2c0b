import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { hashIndex, hashUnit } from './hash.js';
import { countTokens } from './tokens.js';

// What the simulated model says. Order of precedence for a request:
//   1. VLLM_SIM_REPLAY: a recorded reply for exactly this last user message;
//   2. a multiple-choice prompt (EvalScope's Chinese template): a short chain of thought and the
//      line `答案：X`, right with probability VLLM_SIM_ACCURACY when VLLM_SIM_ANSWER_KEY knows the
//      question, a pseudo-random valid letter otherwise;
//   3. anything else: a generic deterministic reply.
// Every choice is a hash of (VLLM_SIM_SEED, question, request seed), so replies are reproducible.

export interface Replay {
  readonly content: string;
  readonly reasoning: string | null;
  readonly finishReason: 'stop' | 'length' | null;
}

export interface Reply {
  /** The model's raw output text; a reasoning parser splits it at `</think>`. */
  readonly raw: string;
  /** A replayed finish_reason, if the recording had one. */
  readonly finishReason: 'stop' | 'length' | null;
}

export interface AnswerSettings {
  readonly seed: number;
  readonly accuracy: number;
  readonly reasoningTokens: number | null;
  readonly answerTokens: number;
}

export class AnswerFileError extends Error {}

function* jsonLines(path: string): Generator<[Record<string, unknown>, number]> {
  const lines = readFileSync(path, 'utf8').split('\n');
  for (const [i, line] of lines.entries()) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new AnswerFileError(`${path}:${i + 1}: not valid JSON`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new AnswerFileError(`${path}:${i + 1}: expected a JSON object`);
    }
    yield [value as Record<string, unknown>, i + 1];
  }
}

/** A key file, or every `*.jsonl` in a folder (e.g. IQuiz's IQ.jsonl and EQ.jsonl). */
function keyFiles(path: string): string[] {
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path)
    .filter((name) => name.endsWith('.jsonl'))
    .sort()
    .map((name) => join(path, name));
}

export class AnswerBook {
  private readonly key = new Map<string, string>();
  private readonly replays = new Map<string, Replay>();

  constructor(keyPath: string | null, replayPath: string | null) {
    for (const file of keyPath ? keyFiles(keyPath) : []) {
      for (const [entry, line] of jsonLines(file)) {
        // `answer` (IQuiz, our key files) or `label` (AGIEval-style files).
        const answer = entry.answer ?? entry.label;
        if (typeof entry.question !== 'string')
          throw new AnswerFileError(`${file}:${line}: "question" must be a string`);
        if (typeof answer !== 'string' || !/^[A-Z]$/.test(answer)) {
          throw new AnswerFileError(`${file}:${line}: "answer" must be one capital letter`);
        }
        this.key.set(entry.question, answer);
      }
    }
    for (const [entry, line] of replayPath ? jsonLines(replayPath) : []) {
      const { prompt, content, reasoning } = entry;
      const finish = entry.finish_reason ?? null;
      if (typeof prompt !== 'string' || typeof content !== 'string') {
        throw new AnswerFileError(`${replayPath}:${line}: "prompt" and "content" must be strings`);
      }
      if (reasoning !== undefined && reasoning !== null && typeof reasoning !== 'string') {
        throw new AnswerFileError(`${replayPath}:${line}: "reasoning" must be a string or null`);
      }
      if (finish !== null && finish !== 'stop' && finish !== 'length') {
        throw new AnswerFileError(`${replayPath}:${line}: "finish_reason" must be "stop" or "length"`);
      }
      this.replays.set(prompt, { content, reasoning: reasoning ?? null, finishReason: finish });
    }
  }

  replay(lastUserMessage: string): Replay | undefined {
    return this.replays.get(lastUserMessage);
  }

  /** Exact question match first, else the longest key question the prompt contains. */
  correctLetter(question: string | null, prompt: string): string | undefined {
    if (question !== null) {
      const exact = this.key.get(question);
      if (exact) return exact;
    }
    let best: [string, string] | undefined;
    for (const entry of this.key) {
      if (prompt.includes(entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
    }
    return best?.[1];
  }
}

interface MultipleChoice {
  /** The text between `问题：` and the last `\n选项：\n`, or null when the template is not used. */
  readonly question: string | null;
  readonly letters: readonly string[];
}

const OPTIONS_MARK = '\n选项：\n';
const QUESTION_MARK = '问题：';

/** Recognises a multiple-choice prompt and the letters it allows. */
function parseMultipleChoice(prompt: string): MultipleChoice | null {
  const optionsAt = prompt.lastIndexOf(OPTIONS_MARK);
  const questionAt = optionsAt < 0 ? -1 : prompt.lastIndexOf(QUESTION_MARK, optionsAt);
  const question = questionAt < 0 ? null : prompt.slice(questionAt + QUESTION_MARK.length, optionsAt);
  // `其中 [LETTER] 是 A,B,C,D 中的一个` names them; otherwise read the `X) ` option lines.
  const named = /是\s*([A-Z](?:\s*[,，、]\s*[A-Z])+)\s*中的一个/.exec(prompt);
  let letters: string[] = named ? (named[1]?.match(/[A-Z]/g) ?? []) : [];
  if (letters.length === 0) {
    const tail = optionsAt < 0 ? prompt : prompt.slice(optionsAt);
    letters = [...tail.matchAll(/^([A-Z])\) /gm)].map((m) => m[1] ?? '');
  }
  if (letters.length < 2 && question === null) return null;
  return { question, letters: letters.length >= 2 ? [...new Set(letters)] : ['A', 'B', 'C', 'D'] };
}

const OPENERS = [
  '嗯，我先仔细读一下题目。',
  '好的，先理解题目在问什么。',
  '让我一步步思考这道题。',
  '这道题需要认真分析。',
];
const VERDICTS = ['似乎不太对', '和题意不符', '可以先排除', '不够准确', '说法有问题'];
const FILLERS = [
  '再把条件逐一对照一下。',
  '检查一遍推理过程，没有发现矛盾。',
  '换个角度再验证一次。',
  '注意题目里的细节。',
  '结论前后一致。',
];

/** Appends sentences from `pool` (picked by hash) until `text` reaches `tokens` tokens. */
function fill(
  text: string,
  tokens: number,
  pool: readonly string[],
  ...salt: ReadonlyArray<string | number>
): string {
  let out = text;
  let count = countTokens(text);
  for (let i = 0; count < tokens; i++) {
    const sentence = pool[hashIndex(pool.length, 'fill', ...salt, i)] ?? '';
    out += sentence;
    count += countTokens(sentence);
  }
  return out;
}

function multipleChoiceReply(
  mc: MultipleChoice,
  letter: string,
  s: AnswerSettings,
  salt: readonly (string | number)[],
): [string, string] {
  const target = s.reasoningTokens ?? 40 + hashIndex(31, 'length', ...salt);
  const close = `所以答案应该是${letter}。`;
  let thought = OPENERS[hashIndex(OPENERS.length, 'open', ...salt)] ?? '';
  for (const option of mc.letters.slice(0, 5)) {
    thought +=
      option === letter
        ? `选项${option}看起来最合理。`
        : `选项${option}${VERDICTS[hashIndex(VERDICTS.length, 'verdict', option, ...salt)]}。`;
  }
  thought = fill(thought, target - countTokens(close), FILLERS, ...salt) + close;
  const answerLine = `\n\n答案：${letter}`;
  const content =
    fill(
      `根据以上分析，正确答案是${letter}。`,
      s.answerTokens - countTokens(answerLine),
      FILLERS,
      'answer',
      ...salt,
    ) + answerLine;
  return [thought, content];
}

function genericReply(prompt: string, s: AnswerSettings): [string, string] {
  const tag = hashIndex(10_000, 'generic', s.seed, prompt);
  return /\p{Script=Han}/u.test(prompt)
    ? [
        '嗯，用户发来了一条消息。我需要理解用户的意图，然后给出简洁、有帮助的回答。',
        `这是 vLLM 模拟器生成的回答（编号 ${tag}）。`,
      ]
    : [
        'Okay, the user sent a message. I should work out what they want and give a short, helpful answer.',
        `This is a simulated reply from vllm-sim (#${tag}).`,
      ];
}

/**
 * The raw model output for a request. With thinking on, a Qwen3-style `<think>` block comes first
 * (`<think>\n…\n</think>\n\n…`, vllm-versions §3.3); a replay keeps its own text and reasoning exactly.
 */
export function reply(
  book: AnswerBook,
  s: AnswerSettings,
  lastUser: string,
  requestSeed: number | null,
  thinking: boolean,
): Reply {
  const recorded = book.replay(lastUser);
  if (recorded) {
    const raw =
      recorded.reasoning === null
        ? recorded.content
        : `<think>${recorded.reasoning}</think>${recorded.content}`;
    return { raw, finishReason: recorded.finishReason };
  }
  const mc = parseMultipleChoice(lastUser);
  let reasoning: string;
  let content: string;
  if (mc) {
    const question = mc.question ?? lastUser;
    const salt = [s.seed, question, requestSeed ?? ''];
    const correct = book.correctLetter(mc.question, lastUser);
    const letters = correct && !mc.letters.includes(correct) ? [...mc.letters, correct] : mc.letters;
    let letter: string;
    if (correct === undefined) {
      letter = letters[hashIndex(letters.length, 'guess', ...salt)] ?? 'A';
    } else {
      const wrong = letters.filter((l) => l !== correct);
      const right = wrong.length === 0 || hashUnit('answer', ...salt) < s.accuracy;
      letter = right ? correct : (wrong[hashIndex(wrong.length, 'wrong', ...salt)] ?? correct);
    }
    [reasoning, content] = multipleChoiceReply({ ...mc, letters }, letter, s, salt);
  } else {
    [reasoning, content] = genericReply(lastUser, s);
  }
  return { raw: thinking ? `<think>\n${reasoning}\n</think>\n\n${content}` : content, finishReason: null };
}
