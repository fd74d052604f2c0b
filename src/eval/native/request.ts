import { performance } from 'node:perf_hooks';
import OpenAI, { APIConnectionError, APIError } from 'openai';
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import pRetry from 'p-retry';
import type { GenerationSettings } from '../../plan/schema.js';
import { delay } from '../../util/delay.js';
import type { Endpoint, ErrorKind, TokenUsage } from '../types.js';
import type { MessageText } from './extract.js';
import { parseRetryAfter } from '../../util/retry-after.js';

/** Pause before the first retry; each further one doubles up to the maximum, drawn from one to two times that. */
const FIRST_RETRY_DELAY_MS = 1_000;
const MAX_RETRY_DELAY_MS = 30_000;
/** A longer Retry-After is cut to this: a night-long evaluation must not sleep for hours on one header. */
export const MAX_RETRY_AFTER_MS = 60_000;
/** setTimeout fires at once for longer delays (a 32-bit limit), so longer limits are held at this. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The settings of `generation` that decide how one question is asked, timed and retried. */
export type RequestSettings = Pick<GenerationSettings, 'stream' | 'timeout' | 'max_request_time' | 'retries'>;

/** Sampling parameters vLLM accepts beyond OpenAI's; the client sends unknown body fields as they are. */
interface VllmSamplingExtensions {
  top_k?: number;
  min_p?: number;
  chat_template_kwargs?: Record<string, unknown>;
}
type ChatRequest = ChatCompletionCreateParamsNonStreaming & VllmSamplingExtensions;
type StreamingChatRequest = ChatCompletionCreateParamsStreaming & VllmSamplingExtensions;

/** The request body for one prompt; undefined settings are left out (JSON drops them), so vLLM's defaults apply. */
export function buildChatRequest(model: string, prompt: string, generation: GenerationSettings): ChatRequest {
  return {
    model,
    messages: [{ role: 'user', content: prompt }],
    max_tokens: generation.max_tokens,
    temperature: generation.temperature,
    top_p: generation.top_p,
    seed: generation.seed,
    presence_penalty: generation.presence_penalty,
    top_k: generation.top_k,
    min_p: generation.min_p,
    chat_template_kwargs: generation.chat_template_kwargs,
  };
}

/** What came back for one request, before scoring. */
export interface Completion {
  message: MessageText;
  finishReason: string | null;
  usage: TokenUsage | null;
  ttftMs: number | null;
  /** Duration of the attempt that answered. */
  latencyMs: number;
}

/** How asking one question went, after any retries. */
export type RequestOutcome =
  | { completion: Completion; attempts: number }
  | { error: string; kind: ErrorKind; attempts: number; elapsedMs: number };

/**
 * Older vLLM versions put their error fields (`{object: "error", message, type, code}`) at the top level
 * of the body, where the openai client does not look for them; wrap them so the message survives.
 */
class VllmClient extends OpenAI {
  protected override makeStatusError(
    status: number,
    body: object | undefined,
    message: string | undefined,
    headers: Headers,
  ): APIError {
    const wrapped = typeof body === 'object' && body !== null && !('error' in body) ? { error: body } : body;
    return super.makeStatusError(status, wrapped ?? {}, message, headers);
  }
}

export function createClient(endpoint: Endpoint, settings: RequestSettings): OpenAI {
  return new VllmClient({
    baseURL: endpoint.baseUrl,
    apiKey: endpoint.apiKey ?? 'EMPTY',
    // One retry policy, requestWithRetries': the client would otherwise retry 429 and 5xx on its own as well.
    maxRetries: 0,
    // A backstop only; the attempt's own limits fire first and say which one it was.
    timeout: timerMs(settings.max_request_time + 60),
  });
}

/** A time limit of `generation` cut the attempt. */
export class TimeLimitError extends Error {
  constructor(
    message: string,
    readonly limit: 'timeout' | 'max_request_time',
  ) {
    super(message);
    this.name = 'TimeLimitError';
  }
}

/** The connection broke off, or the stream ended, before the answer was complete. */
class BrokenResponseError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BrokenResponseError';
  }
}

/**
 * Asks once and, after a transient failure, again (at most `retries` more times) with exponential backoff and
 * jitter, waiting at least what a 429's Retry-After asks. Rejects only with the stop reason once `requests` stop.
 */
export async function requestWithRetries(
  client: OpenAI,
  request: ChatRequest,
  settings: RequestSettings,
  requests: RequestControllers,
): Promise<RequestOutcome> {
  const started = performance.now();
  let attempts = 0;
  let retryAfterEndsAt = 0;
  try {
    const completion = await pRetry(
      async () => {
        // Retry-After is the least the server asked for; the backoff pause already spent counts toward it.
        const stillToWait = retryAfterEndsAt - performance.now();
        if (stillToWait > 0) await delay(stillToWait, requests.signal);
        attempts++;
        return attemptOnce(client, request, settings, requests);
      },
      {
        retries: settings.retries,
        minTimeout: FIRST_RETRY_DELAY_MS,
        maxTimeout: MAX_RETRY_DELAY_MS,
        factor: 2,
        randomize: true,
        signal: requests.signal,
        shouldRetry: ({ error }) => {
          if (requests.signal.aborted || errorKind(error) === 'permanent') return false;
          retryAfterEndsAt = performance.now() + (retryAfterMs(error) ?? 0);
          return true;
        },
      },
    );
    return { completion, attempts };
  } catch (error) {
    requests.signal.throwIfAborted();
    return {
      error: describeRequestError(error),
      kind: errorKind(error),
      attempts,
      elapsedMs: elapsedMs(started),
    };
  }
}

async function attemptOnce(
  client: OpenAI,
  request: ChatRequest,
  settings: RequestSettings,
  requests: RequestControllers,
): Promise<Completion> {
  const controller = requests.open();
  const limits = new AttemptLimits(controller, settings);
  try {
    return settings.stream
      ? await streamCompletion(client, request, controller.signal, limits)
      : await fetchCompletion(client, request, controller.signal);
  } catch (error) {
    // A time limit or the run's stop cut the attempt: its reason says which, where the client says only "aborted".
    controller.signal.throwIfAborted();
    if (error instanceof APIError || error instanceof BrokenResponseError) throw error;
    // Anything else came from reading the body: undici's `terminated` when the socket closed mid-answer.
    throw new BrokenResponseError(`the response broke off: ${rootCause(error)}`, { cause: error });
  } finally {
    limits.clear();
    requests.close(controller);
  }
}

async function fetchCompletion(
  client: OpenAI,
  request: ChatRequest,
  signal: AbortSignal,
): Promise<Completion> {
  const started = performance.now();
  const response = await client.chat.completions.create(request, { signal });
  const choice = response.choices[0];
  return {
    message: choice?.message ?? {},
    finishReason: choice?.finish_reason ?? null,
    usage: toTokenUsage(response.usage),
    ttftMs: null,
    latencyMs: elapsedMs(started),
  };
}

async function streamCompletion(
  client: OpenAI,
  request: ChatRequest,
  signal: AbortSignal,
  limits: AttemptLimits,
): Promise<Completion> {
  const started = performance.now();
  const streamingRequest: StreamingChatRequest = {
    ...request,
    stream: true,
    stream_options: { include_usage: true },
  };
  const stream = await client.chat.completions.create(streamingRequest, { signal });
  limits.progress();
  let content = '';
  let reasoning = '';
  let reasoningContent = '';
  let finishReason: string | null = null;
  let usage: TokenUsage | null = null;
  let ttftMs: number | null = null;
  for await (const chunk of stream) {
    limits.progress();
    usage = toTokenUsage(chunk.usage) ?? usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    // vLLM's reasoning fields are not in the OpenAI typings; MessageText declares them.
    const delta: MessageText = choice.delta;
    if (ttftMs === null && (delta.content || delta.reasoning || delta.reasoning_content))
      ttftMs = elapsedMs(started);
    content += delta.content ?? '';
    reasoning += delta.reasoning ?? '';
    reasoningContent += delta.reasoning_content ?? '';
    finishReason = choice.finish_reason ?? finishReason;
  }
  // An aborted stream ends quietly, as if complete: without this check a cut-off answer would be scored.
  signal.throwIfAborted();
  // vLLM ends every answer with a finish_reason; a stream closed without one was cut off.
  if (finishReason === null)
    throw new BrokenResponseError('the response stream ended before the answer was finished');
  return {
    message: { content, reasoning, reasoning_content: reasoningContent },
    finishReason,
    usage,
    ttftMs,
    latencyMs: elapsedMs(started),
  };
}

/**
 * The two clocks of one attempt: `timeout` since the last sign of life (the request sent, the headers, a chunk),
 * so a long answer whose tokens keep flowing is never cut by it, and `max_request_time` since the start.
 */
class AttemptLimits {
  private readonly stall: NodeJS.Timeout;
  private readonly overall: NodeJS.Timeout;
  private answering = false;

  constructor(controller: AbortController, settings: RequestSettings) {
    const { timeout, max_request_time: maxRequestTime } = settings;
    this.stall = setTimeout(() => {
      const message = this.answering
        ? `the response stream stalled: nothing arrived for ${timeout}s (generation.timeout)`
        : `no response within ${timeout}s (generation.timeout)`;
      controller.abort(new TimeLimitError(message, 'timeout'));
    }, timerMs(timeout));
    this.overall = setTimeout(
      () =>
        controller.abort(
          new TimeLimitError(
            `still answering after ${maxRequestTime}s (generation.max_request_time)`,
            'max_request_time',
          ),
        ),
      timerMs(maxRequestTime),
    );
  }

  /** Something arrived: the stall clock starts again. */
  progress(): void {
    this.answering = true;
    this.stall.refresh();
  }

  clear(): void {
    clearTimeout(this.stall);
    clearTimeout(this.overall);
  }
}

function timerMs(seconds: number): number {
  return Math.min(Math.round(seconds * 1000), MAX_TIMER_MS);
}

/**
 * Whether a failed attempt may pass if tried again: server errors, rate limits, network trouble and stalls may;
 * a refused request (400 such as the context-length error, 401, 404) or an answer too long for
 * `max_request_time` will fail the same way again.
 */
export function errorKind(error: unknown): ErrorKind {
  if (error instanceof TimeLimitError) return error.limit === 'timeout' ? 'transient' : 'permanent';
  if (error instanceof BrokenResponseError || error instanceof APIConnectionError) return 'transient';
  if (error instanceof APIError) {
    // An error event inside a stream has no HTTP status; vLLM puts the status in its `code`.
    const status = error.status ?? numericCode(error.code);
    if (status === undefined) return 'transient';
    return status === 408 || status === 429 || status >= 500 ? 'transient' : 'permanent';
  }
  return 'permanent';
}

function numericCode(code: unknown): number | undefined {
  const status = typeof code === 'number' || typeof code === 'string' ? Number(code) : Number.NaN;
  return Number.isInteger(status) ? status : undefined;
}

/** How long a 429 or 503 asks to be left alone (Retry-After: delay seconds or a date), at most MAX_RETRY_AFTER_MS. */
export function retryAfterMs(error: unknown): number | undefined {
  const ms = parseRetryAfter(error instanceof APIError ? error.headers?.get('retry-after') : undefined);
  return ms === undefined ? undefined : Math.min(ms, MAX_RETRY_AFTER_MS);
}

/** One line for predictions.jsonl: what failed, with the HTTP status and body when there was a response. */
export function describeRequestError(error: unknown): string {
  if (error instanceof APIConnectionError) return `connection failed: ${rootCause(error)}`;
  if (error instanceof APIError) {
    if (error.status === undefined)
      return `error in the response stream: ${JSON.stringify(error.error) ?? error.message}`;
    // Without a JSON body the client's message is already `<status> <text>`.
    return error.error === undefined
      ? `HTTP ${error.message}`
      : `HTTP ${error.status}: ${JSON.stringify(error.error)}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** The root cause's own words: fetch wraps a refused connection in `fetch failed`, the client in `Connection error.` */
function rootCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  let root: Error = error;
  while (root.cause instanceof Error) root = root.cause;
  return root.message || (root as NodeJS.ErrnoException).code || error.message;
}

function toTokenUsage(usage: TokenUsage | null | undefined): TokenUsage | null {
  if (!usage) return null;
  const { prompt_tokens, completion_tokens, total_tokens } = usage;
  return { prompt_tokens, completion_tokens, total_tokens };
}

function elapsedMs(since: number): number {
  return Math.round((performance.now() - since) * 10) / 10;
}

/**
 * One AbortController per attempt, all aborted when the run stops. An attempt gets its own signal because
 * the openai client adds a listener to the signal it is given and never removes it: a shared signal
 * would collect one listener per request.
 */
export class RequestControllers {
  private readonly inFlight = new Set<AbortController>();

  constructor(readonly signal: AbortSignal) {
    signal.addEventListener(
      'abort',
      () => this.inFlight.forEach((controller) => controller.abort(signal.reason)),
      { once: true },
    );
  }

  open(): AbortController {
    const controller = new AbortController();
    if (this.signal.aborted) controller.abort(this.signal.reason);
    this.inFlight.add(controller);
    return controller;
  }

  close(controller: AbortController): void {
    this.inFlight.delete(controller);
  }
}
