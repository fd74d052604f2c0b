// Where each output token goes once a reasoning parser has looked at it, mirroring vLLM's
// think-tag parsers (deepseek_r1, qwen3, …): the text between `<think>` and `</think>` is
// reasoning, the rest content, the tags themselves vanish. Without a parser every token is
// content, tags included (vllm-versions §3.3). An output cut before `</think>` is all reasoning, so
// its content is null / has no content deltas.

export type Part = 'reasoning' | 'content' | 'hidden';

export interface ParserSetup {
  /** The active reasoning parser, or null. */
  readonly parser: string | null;
  /** On ≤0.9, deepseek_r1 put tag-less output (enable_thinking=false) in reasoning_content (vllm-versions §3.3). */
  readonly deepseekNoTagsIsReasoning: boolean;
}

export function classify(tokens: readonly string[], setup: ParserSetup): Part[] {
  if (setup.parser === null) return tokens.map(() => 'content');
  if (!tokens.some((t) => t === '<think>' || t === '</think>')) {
    const part = setup.parser === 'deepseek_r1' && setup.deepseekNoTagsIsReasoning ? 'reasoning' : 'content';
    return tokens.map(() => part);
  }
  let inThought = true;
  return tokens.map((t) => {
    if (inThought && t === '<think>') return 'hidden';
    if (inThought && t === '</think>') {
      inThought = false;
      return 'hidden';
    }
    return inThought ? 'reasoning' : 'content';
  });
}

export interface Segment {
  readonly part: 'reasoning' | 'content';
  readonly text: string;
}

/** Tokens [from, to) as runs of reasoning and content text, hidden tokens dropped. */
export function segments(
  tokens: readonly string[],
  parts: readonly Part[],
  from: number,
  to: number,
): Segment[] {
  const out: Array<{ part: 'reasoning' | 'content'; text: string }> = [];
  for (let i = from; i < to; i++) {
    const part = parts[i];
    if (part === undefined || part === 'hidden') continue;
    const last = out[out.length - 1];
    if (last && last.part === part) last.text += tokens[i] ?? '';
    else out.push({ part, text: tokens[i] ?? '' });
  }
  return out;
}
