/**
 * The text fields of an OpenAI-style chat message, or of all stream deltas joined together.
 * vLLM names the reasoning field by version: `reasoning_content` up to ~0.10, both (same text) from
 * ~0.11, `reasoning` only from ~0.17. Any of them may be absent or null.
 */
export interface MessageText {
  content?: string | null;
  reasoning?: string | null;
  reasoning_content?: string | null;
}

export interface SplitMessage {
  /** The answer text, without any reasoning; null when there is none. */
  content: string | null;
  reasoning: string | null;
}

const THINK_OPEN = '<think>';
const THINK_CLOSE = '</think>';

function nonEmpty(text: string | null | undefined): string | null {
  return text ? text : null;
}

/**
 * Separates reasoning from the answer. Reasoning comes from the reasoning field when a parser
 * is set, or stays inline as `<think>…</think>` at the start of `content` when none is. Qwen3-style
 * templates put `<think>` into the prompt, so the content may hold only the closing tag.
 */
export function splitReasoning(message: MessageText): SplitMessage {
  // The transitional versions send the same text under both names: take one, never both.
  const fieldReasoning = nonEmpty(message.reasoning) ?? nonEmpty(message.reasoning_content);
  const inline = splitInlineThink(message.content ?? '');
  const reasoningParts = [fieldReasoning, inline.reasoning].filter((part) => part !== null);
  return {
    content: nonEmpty(inline.content),
    reasoning: reasoningParts.length > 0 ? reasoningParts.join('\n') : null,
  };
}

function splitInlineThink(content: string): { content: string; reasoning: string | null } {
  const leadingSpace = content.length - content.trimStart().length;
  const opens = content.startsWith(THINK_OPEN, leadingSpace);
  const bodyStart = opens ? leadingSpace + THINK_OPEN.length : 0;
  const closeAt = content.indexOf(THINK_CLOSE, bodyStart);
  if (closeAt === -1) {
    // An unterminated <think> means generation stopped while still thinking: it is all reasoning.
    return opens
      ? { content: '', reasoning: nonEmpty(content.slice(bodyStart)) }
      : { content, reasoning: null };
  }
  if (!opens && content.lastIndexOf(THINK_OPEN, closeAt) !== -1) {
    // A think block in the middle of the answer is not leading reasoning; leave the text alone.
    return { content, reasoning: null };
  }
  return {
    content: content.slice(closeAt + THINK_CLOSE.length).trimStart(),
    reasoning: nonEmpty(content.slice(bodyStart, closeAt)),
  };
}

/*
 * Answer extraction, modelled on EvalScope's `parse_answers_zh` (evalscope/utils/multi_choices.py)
 * for single-answer questions. Tiers, first hit wins:
 *   1. the last `答案：` marker followed by a valid label (`B`, `b`, `[B]`, `(B)`, `B) 8个`, `**B**`);
 *   2. the last `Answer:` marker followed by a valid upper-case label;
 *   3. EvalScope's own fallback: the last upper-case ASCII letter of the text, if it is a valid label.
 * A marker followed by several options (`答案：AB`) ends the search with no answer, as in EvalScope.
 * Deviations from EvalScope, all in the direction of reading what the model clearly meant:
 * lower-case labels after `答案：`, `**` between `答案` and the colon, and tier 2 (EvalScope's
 * Chinese parser has no English marker; its fallback usually lands on the same letter).
 */
const ZH_MARKER = /答案\s*(?:\*\*)?\s*[:：]\s*\**\s*/g;
const EN_MARKER = /\banswer\s*(?:\*\*)?\s*:\s*\**\s*/gi;
// A label wrapped the way options are printed: [B] (B) （B） 【B】.
const BRACKETED_LABEL = /^[([（【]\s*([A-Za-z])\s*[)\]）】]/;
// A bare label is a run of letters: `B) 8个` and `B，因为` give `B`; `Because` and `AB` are runs too.
const BARE_LABEL = /^[A-Za-z]+/;

export function extractAnswer(content: string | null, letters: string[]): string | null {
  if (!content) return null;
  const valid = new Set(letters);
  const zh = lastLabelledAnswer(content, ZH_MARKER, valid, true);
  if (zh !== undefined) return zh;
  const en = lastLabelledAnswer(content, EN_MARKER, valid, false);
  if (en !== undefined) return en;
  return lastCapitalLetter(content, valid);
}

/**
 * The label after the last marker that has one: a valid letter, or null for a definite non-answer
 * (several options at once, `答案：AB`, which EvalScope scores as no answer rather than falling back).
 * Undefined when no marker carries a label, so the next tier may try.
 */
function lastLabelledAnswer(
  text: string,
  marker: RegExp,
  valid: Set<string>,
  allowLowerCase: boolean,
): string | null | undefined {
  // Scan from the last marker back: models restate the format or change their mind before the final line.
  const markerEnds = Array.from(text.matchAll(marker), (match) => match.index + match[0].length);
  for (const end of markerEnds.reverse()) {
    const label = labelAt(text.slice(end, end + 32));
    if (label === undefined) continue;
    // Lower case is read only for a lone letter: `答案：bad` is a word, not options B, A and D.
    const letter = allowLowerCase && label.length === 1 ? label.toUpperCase() : label;
    if (valid.has(letter)) return letter;
    if (label.length > 1 && Array.from(label).every((char) => valid.has(char))) return null;
  }
  return undefined;
}

function labelAt(tail: string): string | undefined {
  return BRACKETED_LABEL.exec(tail)?.[1] ?? BARE_LABEL.exec(tail)?.[0];
}

function lastCapitalLetter(text: string, valid: Set<string>): string | null {
  for (let i = text.length - 1; i >= 0; i--) {
    const char = text[i] ?? '';
    if (char >= 'A' && char <= 'Z') return valid.has(char) ? char : null;
  }
  return null;
}
