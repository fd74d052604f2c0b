import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApiState, sendJson } from './http.js';
import { text } from './chat.js';
import { errorBody } from './responses.js';
import { tokenize } from './tokens.js';

// vLLM's `POST /tokenize` (vllm/entrypoints/openai/protocol.py, TokenizeCompletionRequest / TokenizeChatRequest →
// TokenizeResponse {count, max_model_len, tokens, token_strs}). The chat form renders Qwen3's template as the
// chat endpoint counts it (tokens.ts), so a prompt sized here is exactly as long in a chat request's usage.

/** Qwen3's vocabulary size: token ids fall below it. */
const VOCAB_SIZE = 151_936;

/** A stable id per token text (FNV-1a); the simulator has no vocabulary, only consistent ids. */
function tokenId(piece: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < piece.length; i += 1) hash = Math.imul(hash ^ piece.charCodeAt(i), 0x01000193) >>> 0;
  return hash % VOCAB_SIZE;
}

/** The template's pieces around each message, as promptTokenCount counts them. */
function chatPieces(body: Record<string, unknown>, messages: unknown[]): string[] {
  const pieces: string[] = [];
  for (const message of messages) {
    const fields =
      typeof message === 'object' && message !== null ? (message as Record<string, unknown>) : {};
    const role = typeof fields.role === 'string' ? fields.role : 'user';
    pieces.push('<|im_start|>', role, '\n', ...tokenize(text(fields.content)), '<|im_end|>', '\n');
  }
  if (body.add_generation_prompt !== false) pieces.push('<|im_start|>', 'assistant', '\n');
  const kwargs = body.chat_template_kwargs;
  const thinkingDisabled =
    typeof kwargs === 'object' &&
    kwargs !== null &&
    (kwargs as Record<string, unknown>).enable_thinking === false;
  if (thinkingDisabled) pieces.push('<think>', '\n\n', '</think>', '\n\n');
  return pieces;
}

export function handleTokenize(
  state: ApiState,
  req: IncomingMessage,
  res: ServerResponse,
  raw: string,
): void {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    body = null;
  }
  const fields = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : null;
  const pieces = Array.isArray(fields?.messages)
    ? chatPieces(fields, fields.messages)
    : typeof fields?.prompt === 'string'
      ? tokenize(fields.prompt)
      : null;
  if (fields === null || pieces === null) {
    sendJson(
      state,
      req,
      res,
      400,
      errorBody(state.rules, { status: 400, message: 'Field required: prompt or messages' }),
    );
    return;
  }
  if (typeof fields.model === 'string' && !state.servedNames.includes(fields.model)) {
    const message = `The model \`${fields.model}\` does not exist.`;
    sendJson(state, req, res, 404, errorBody(state.rules, { status: 404, message }));
    return;
  }
  sendJson(state, req, res, 200, {
    count: pieces.length,
    max_model_len: state.maxModelLen,
    tokens: pieces.map(tokenId),
    token_strs: fields.return_token_strs === true ? pieces : null,
  });
}
