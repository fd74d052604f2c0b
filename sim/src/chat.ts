import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ApiState, sendJson, writeHead } from './http.js';
import { reply } from './answers.js';
import { streamFaultFor } from './faults.js';
import { ENGINE_DEAD_MESSAGE } from './fatal.js';
import { pyRepr, pyString } from './py.js';
import { classify, segments } from './reasoning.js';
import {
  type ApiError,
  type Finish,
  type ResponseMeta,
  chatCompletionBody,
  chunkBody,
  completionId,
  errorBody,
  rateLimitBody,
  streamErrorBody,
  usage,
  usageChunkBody,
} from './responses.js';
import { SPECIAL_TOKENS, promptTokenCount, tokenize } from './tokens.js';
import { contextLengthMessage } from './versions.js';

// POST /v1/chat/completions: validation in vLLM's order (body schema, model name, engine
// alive, context length), then the reply goes through the scheduler, streamed or whole.

interface ChatRequest {
  readonly model: string | null;
  readonly messages: ReadonlyArray<{ readonly role: string; readonly text: string }>;
  readonly lastUser: string;
  readonly stream: boolean;
  readonly includeUsage: boolean;
  readonly continuousUsage: boolean;
  readonly maxTokens: number | null;
  /** vLLM's sampling extras: keep generating past the model's end (to max_tokens), or at least this many. */
  readonly ignoreEos: boolean;
  readonly minTokens: number;
  readonly seed: number | null;
  readonly thinkingDisabled: boolean;
  readonly temperature: number | null;
}

interface FieldError {
  readonly type: string;
  readonly loc: ReadonlyArray<string | number>;
  readonly msg: string;
  readonly input: unknown;
  readonly ctx?: Record<string, string>;
}

/** vLLM's RequestValidationError handler gives 400, never 422 (docs/vllm-versions.md §5.4). */
function validationError(state: ApiState, e: FieldError): ApiError {
  const fields: Record<string, unknown> = {
    type: e.type,
    loc: e.loc,
    msg: e.msg,
    input: e.input,
    ...(e.ctx ? { ctx: e.ctx } : {}),
  };
  const repr = `{${Object.entries(fields)
    .map(([k, v]) => `'${k}': ${pyRepr(v, k === 'loc')}`)
    .join(', ')}}`;
  if (!state.rules.countedValidationErrors) return { status: 400, message: `[${repr}]` };
  return {
    status: 400,
    message: `1 validation error:\n  ${repr}`,
    type: 'Bad Request',
    param: e.loc.join('.'),
  };
}

/** The text of a message's content: a string, or the text parts of a list. */
export function text(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((part: unknown) =>
      typeof part === 'object' && part !== null && 'text' in part && typeof part.text === 'string'
        ? part.text
        : '',
    )
    .join('');
}

function optionalInt(body: Record<string, unknown>, key: string): number | null | FieldError {
  const value = body[key];
  if (value === undefined || value === null) return null;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  return { type: 'int_type', loc: ['body', key], msg: 'Input should be a valid integer', input: value };
}

const TRUE_WORDS = new Set(['1', 'on', 't', 'true', 'y', 'yes']);
const FALSE_WORDS = new Set(['0', 'off', 'f', 'false', 'n', 'no']);

/** A boolean field as pydantic's lax mode reads it: true/false, 0/1, or words such as "yes" and "off". */
function optionalBool(body: Record<string, unknown>, key: string): boolean | FieldError {
  const value = body[key];
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  const word =
    typeof value === 'string' ? value.toLowerCase() : typeof value === 'number' ? String(value) : null;
  if (word !== null && TRUE_WORDS.has(word)) return true;
  if (word !== null && FALSE_WORDS.has(word)) return false;
  return word === null
    ? { type: 'bool_type', loc: ['body', key], msg: 'Input should be a valid boolean', input: value }
    : {
        type: 'bool_parsing',
        loc: ['body', key],
        msg: 'Input should be a valid boolean, unable to interpret input',
        input: value,
      };
}

function parseRequest(raw: string): ChatRequest | FieldError {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    return {
      type: 'json_invalid',
      loc: ['body', 0],
      msg: 'JSON decode error',
      input: {},
      ctx: { error: 'Expecting value' },
    };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return {
      type: 'model_attributes_type',
      loc: ['body'],
      msg: 'Input should be a valid dictionary or object to extract fields from',
      input: body,
    };
  }
  const b = body as Record<string, unknown>;
  const messages = b.messages;
  if (messages === undefined)
    return { type: 'missing', loc: ['body', 'messages'], msg: 'Field required', input: b };
  if (!Array.isArray(messages))
    return {
      type: 'list_type',
      loc: ['body', 'messages'],
      msg: 'Input should be a valid list',
      input: messages,
    };
  const maxTokens = optionalInt(
    b,
    b.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens',
  );
  if (typeof maxTokens === 'object' && maxTokens !== null) return maxTokens;
  const seed = optionalInt(b, 'seed');
  if (typeof seed === 'object' && seed !== null) return seed;
  const minTokens = optionalInt(b, 'min_tokens');
  if (typeof minTokens === 'object' && minTokens !== null) return minTokens;
  const ignoreEos = optionalBool(b, 'ignore_eos');
  if (typeof ignoreEos === 'object') return ignoreEos;
  const streamOptions =
    typeof b.stream_options === 'object' && b.stream_options !== null
      ? (b.stream_options as Record<string, unknown>)
      : null;
  if (streamOptions && b.stream !== true) {
    return {
      type: 'value_error',
      loc: ['body'],
      msg: 'Value error, Stream options can only be defined when `stream=True`.',
      input: b,
    };
  }
  const typed = messages.filter((m): m is Record<string, unknown> => typeof m === 'object' && m !== null);
  const users = typed.filter((m) => m.role === 'user');
  const kwargs =
    typeof b.chat_template_kwargs === 'object' && b.chat_template_kwargs !== null
      ? (b.chat_template_kwargs as Record<string, unknown>)
      : {};
  return {
    model: typeof b.model === 'string' ? b.model : null,
    messages: typed.map((m) => ({
      role: typeof m.role === 'string' ? m.role : 'user',
      text: text(m.content),
    })),
    lastUser: text(users[users.length - 1]?.content),
    stream: b.stream === true,
    // vllm-versions §8: include_usage defaults to true once stream_options is sent.
    includeUsage: streamOptions !== null && streamOptions.include_usage !== false,
    continuousUsage: streamOptions?.continuous_usage_stats === true,
    maxTokens,
    ignoreEos,
    minTokens: minTokens ?? 0,
    seed,
    thinkingDisabled: kwargs.enable_thinking === false,
    temperature: typeof b.temperature === 'number' ? b.temperature : null,
  };
}

/**
 * The reply's tokens, continued to at least `count` by repeating its visible tokens: the text a model writes once
 * its end-of-sequence token is suppressed is arbitrary, only its length matters.
 */
function continued(tokens: string[], count: number): string[] {
  const filler = tokens.filter((token) => !SPECIAL_TOKENS.has(token));
  if (tokens.length >= count || filler.length === 0) return tokens;
  const longer = tokens.slice();
  for (let i = 0; longer.length < count; i++) longer.push(filler[i % filler.length] as string);
  return longer;
}

function fail(state: ApiState, req: IncomingMessage, res: ServerResponse, e: ApiError): void {
  sendJson(state, req, res, e.status, errorBody(state.rules, e));
}

function injectedError(state: ApiState, status: number): { status: number; body: unknown } {
  if (status === 429) return { status, body: rateLimitBody() };
  return {
    status,
    body: errorBody(state.rules, {
      status,
      message: `Simulated HTTP ${status} (VLLM_SIM_FAULT http_error).`,
    }),
  };
}

function logReceived(state: ApiState, id: string, r: ChatRequest, maxTokens: number): void {
  const prompt = `${r.messages.map((m) => `<|im_start|>${m.role}\n${m.text}<|im_end|>\n`).join('')}<|im_start|>assistant\n`;
  state.log.info(
    ['logger.py', 43],
    `Received request ${id}: prompt: ${pyString(prompt)}, params: SamplingParams(n=1, temperature=${r.temperature ?? 0.6}, top_p=0.95, top_k=20, seed=${r.seed ?? 'None'}, max_tokens=${maxTokens}), lora_request: None.`,
  );
  state.log.info(['async_llm.py', 270], `Added request ${id}.`);
}

export function handleChat(state: ApiState, req: IncomingMessage, res: ServerResponse, raw: string): void {
  const { rules, knobs } = state;
  const index = ++state.chatRequests;
  const injected = state.injector.next();
  if (injected !== null) {
    const e = injectedError(state, injected);
    sendJson(state, req, res, e.status, e.body);
    return;
  }
  const r = parseRequest(raw);
  if ('type' in r) return fail(state, req, res, validationError(state, r));
  if (r.model !== null && !state.servedNames.includes(r.model)) {
    return fail(state, req, res, {
      status: 404,
      message: `The model \`${r.model}\` does not exist.`,
      param: rules.notFoundParam,
    });
  }
  if (state.engineDead) return fail(state, req, res, { status: 500, message: ENGINE_DEAD_MESSAGE });
  if (r.maxTokens !== null && r.maxTokens < 1) {
    return fail(state, req, res, {
      status: 400,
      message: `max_tokens must be at least 1, got ${r.maxTokens}.`,
    });
  }
  // SamplingParams' own checks, in its words.
  if (r.minTokens < 0)
    return fail(state, req, res, {
      status: 400,
      message: `min_tokens must be greater than or equal to 0, got ${r.minTokens}.`,
    });
  if (r.maxTokens !== null && r.minTokens > r.maxTokens)
    return fail(state, req, res, {
      status: 400,
      message: `min_tokens must be less than or equal to max_tokens=${r.maxTokens}, got ${r.minTokens}.`,
    });
  const promptTokens = promptTokenCount(
    r.messages.map((m) => m.text),
    r.thinkingDisabled,
  );
  if (
    promptTokens >= state.maxModelLen ||
    (r.maxTokens !== null && promptTokens + r.maxTokens > state.maxModelLen)
  ) {
    const e = contextLengthMessage(rules, state.maxModelLen, promptTokens, r.maxTokens);
    return fail(state, req, res, { status: 400, message: e.message, param: e.param });
  }

  const limit = r.maxTokens ?? state.maxModelLen - promptTokens;
  const out = reply(state.book, knobs, r.lastUser, r.seed, knobs.thinking && !r.thinkingDisabled);
  // Past the model's own end vLLM keeps sampling: to max_tokens with ignore_eos, to min_tokens otherwise.
  const atLeast = r.ignoreEos ? limit : Math.min(r.minTokens, limit);
  const all = continued(tokenize(out.raw), atLeast);
  const tokens = all.slice(0, limit);
  const finish: Finish =
    all.length > limit || (r.ignoreEos && all.length === limit) ? 'length' : (out.finishReason ?? 'stop');
  const parts = classify(all, state.parser);
  const meta: ResponseMeta = {
    id: completionId(rules),
    created: Math.floor(Date.now() / 1000),
    model: r.model ?? state.servedNames[0] ?? '',
  };
  if (state.logRequests) logReceived(state, meta.id, r, limit);

  const slow = knobs.faults.slowTokens;
  const latency = knobs.tokenLatencyMs * (slow && index > slow.afterRequests ? slow.factor : 1);
  const spec = { promptTokens, outputTokens: tokens.length, finishReason: finish, tokenLatencyMs: latency };
  const engineDead: ApiError = { status: 500, message: ENGINE_DEAD_MESSAGE };
  let settled = false;

  if (!r.stream) {
    const handle = state.scheduler.submit(spec, {
      onTokens(_emitted, done) {
        if (!done) return;
        settled = true;
        const text = (part: 'reasoning' | 'content'): string | null =>
          segments(tokens, parts, 0, tokens.length)
            .filter((s) => s.part === part)
            .map((s) => s.text)
            .join('') || null;
        sendJson(
          state,
          req,
          res,
          200,
          chatCompletionBody(
            rules,
            meta,
            text('reasoning'),
            text('content'),
            finish,
            usage(promptTokens, tokens.length),
          ),
        );
        state.onChatCompleted();
      },
      onEngineDead() {
        settled = true;
        fail(state, req, res, engineDead);
      },
    });
    res.on('close', () => {
      if (!settled) handle.abort();
    });
    return;
  }

  writeHead(state, req, res, 200, { 'content-type': 'text/event-stream; charset=utf-8' });
  const send = (body: unknown): boolean => res.write(`data: ${JSON.stringify(body)}\n\n`);
  const fault = streamFaultFor(knobs.faults, knobs.seed, index);
  const faultAt = Math.max(1, Math.floor(tokens.length / 2));
  const running = (completion: number) => (r.continuousUsage ? usage(promptTokens, completion) : null);
  let sent = 0;
  const handle = state.scheduler.submit(spec, {
    onTokens(emitted, done) {
      if (settled) return;
      if (fault && emitted >= faultAt && !done) {
        // break_stream / stall_stream: the engine's slot is freed; the client sees a cut or a silence.
        settled = true;
        handle.abort();
        if (fault === 'break') res.destroy();
        return;
      }
      // vLLM sends the role chunk with the first engine output, i.e. after TTFT.
      if (sent === 0) send(chunkBody(rules, meta, 'role', '', null, running(0)));
      const runs = segments(tokens, parts, sent, emitted);
      sent = emitted;
      if (done && runs.length === 0) runs.push({ part: 'content', text: '' });
      runs.forEach((s, i) =>
        send(
          chunkBody(
            rules,
            meta,
            s.part,
            s.text,
            done && i === runs.length - 1 ? finish : null,
            running(emitted),
          ),
        ),
      );
      if (!done) return;
      settled = true;
      if (r.includeUsage) send(usageChunkBody(meta, usage(promptTokens, tokens.length)));
      res.end('data: [DONE]\n\n');
      state.onChatCompleted();
    },
    onEngineDead() {
      settled = true;
      send(streamErrorBody(rules, engineDead));
      res.end('data: [DONE]\n\n');
    },
  });
  res.on('close', () => {
    if (!settled) handle.abort();
  });
}
