// A deterministic stand-in for a BPE tokenizer. The pieces always concatenate back to the
// input, so output can be cut at any token (max_tokens) and streamed token by token.
//   - `<think>` / `</think>`: one token each (special tokens in Qwen3's vocabulary);
//   - each CJK character or CJK/full-width punctuation mark: one token;
//   - a run of letters/digits with its leading spaces: one token per 4 characters;
//   - a run of other symbols with its leading spaces: one token per 4 characters;
//   - any other whitespace run (newlines): one token.

const CJK = String.raw`\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3000-\u303f\uff00-\uffef`;
const PIECE = new RegExp(
  [
    String.raw`<\/?think>`,
    `[${CJK}]`,
    String.raw`[ \t]*(?:(?![${CJK}])[\p{L}\p{N}_])+`,
    String.raw`[ \t]*(?:(?![${CJK}])[^\s\p{L}\p{N}_])+`,
    String.raw`\s+`,
  ].join('|'),
  'gu',
);
const CHARS_PER_TOKEN = 4;
export const SPECIAL_TOKENS: ReadonlySet<string> = new Set(['<think>', '</think>']);

export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const [piece] of text.matchAll(PIECE)) {
    const chars = Array.from(piece);
    if (chars.length <= CHARS_PER_TOKEN || SPECIAL_TOKENS.has(piece)) {
      tokens.push(piece);
      continue;
    }
    for (let i = 0; i < chars.length; i += CHARS_PER_TOKEN) {
      tokens.push(chars.slice(i, i + CHARS_PER_TOKEN).join(''));
    }
  }
  return tokens;
}

export function countTokens(text: string): number {
  return tokenize(text).length;
}

// Qwen3's chat template: `<|im_start|>{role}\n{content}<|im_end|>\n` costs 5 tokens around each
// message, the generation prompt `<|im_start|>assistant\n` 3 more, and enable_thinking=false
// appends an empty `<think>\n\n</think>\n\n` block (4 tokens).
const PER_MESSAGE = 5;
const GENERATION_PROMPT = 3;
const EMPTY_THINK_BLOCK = 4;

export function promptTokenCount(contents: readonly string[], thinkingDisabled: boolean): number {
  const body = contents.reduce((sum, text) => sum + PER_MESSAGE + countTokens(text), 0);
  return body + GENERATION_PROMPT + (thinkingDisabled ? EMPTY_THINK_BLOCK : 0);
}
