import { mkdir, open, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import type {
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from 'openai/resources/chat/completions';
import pLimit from 'p-limit';
import { choiceLetters } from '../../datasets/letters.js';
import { abortable } from '../../util/abortable.js';
import type { Sample } from '../../datasets/types.js';
import type { GenerationSettings } from '../../plan/schema.js';
import type { Endpoint, EvalResult, PredictionRecord, TokenUsage } from '../types.js';
import { extractAnswer, splitReasoning, type MessageText } from './extract.js';
import { renderPrompt } from './prompt.js';
import { computeMetrics, summarizeRepeats } from './score.js';

export interface NativeRunContext {
  /** Folder for `predictions.jsonl` (one line per finished sample, appended as it finishes) and `result.json`. */
  evalDir: string;
  /** Aborting stops scheduling, cancels the requests in flight and rejects with the signal's reason. */
  signal: AbortSignal;
  onProgress?: (done: number, total: number, record: PredictionRecord) => void;
  /** Applied to request error texts before they are written (a body may echo a key). */
  mask?: (text: string) => string;
}

/** What the runner needs of an evaluation: its names for the result, how many at once, how to ask. */
export interface NativeTask {
  name: string;
  dataset: string;
  /** Requests in flight at most. */
  concurrency: number;
  /** Sampling, `max_tokens`, streaming, the request time-out and the client's retries. */
  generation: GenerationSettings;
  /** Passes over the data (seeded repeats): the result reports each pass's accuracy and their spread. */
  repeats: number;
}

export const PREDICTIONS_FILE = 'predictions.jsonl';
export const RESULT_FILE = 'result.json';

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

/** What came back for one request, before scoring. */
export interface Completion {
  message: MessageText;
  finishReason: string | null;
  usage: TokenUsage | null;
  ttftMs: number | null;
}

/**
 * Asks every sample's question (at most `task.concurrency` at once), scores the answers and writes
 * `predictions.jsonl` and `result.json` into `ctx.evalDir`. A request that fails after the client's
 * retries is recorded as an error (a wrong answer) and the run goes on.
 */
export async function runNative(
  task: NativeTask,
  samples: Sample[],
  endpoint: Endpoint,
  ctx: NativeRunContext,
): Promise<EvalResult> {
  ctx.signal.throwIfAborted();
  const { generation } = task;
  const client = new VllmClient({
    baseURL: endpoint.baseUrl,
    apiKey: endpoint.apiKey ?? 'EMPTY',
    maxRetries: generation.retries,
    timeout: generation.timeout * 1000,
  });
  await mkdir(ctx.evalDir, { recursive: true });
  const predictionsFile = path.join(ctx.evalDir, PREDICTIONS_FILE);
  const predictions = await JsonlAppender.open(predictionsFile);

  // Aborted by the caller's signal or by a failure that makes going on pointless (e.g. the disk is full).
  const stop = new AbortController();
  const requests = new RequestControllers(stop.signal);
  const forwardAbort = (): void => stop.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', forwardAbort, { once: true });

  const records: PredictionRecord[] = new Array<PredictionRecord>(samples.length);
  let done = 0;
  const evaluateAt = async (index: number): Promise<void> => {
    const sample = samples[index];
    if (stop.signal.aborted || !sample) return;
    try {
      const record = await evaluateSample(client, sample, endpoint.servedModel, generation, requests);
      if (!record) return;
      if (record.error && ctx.mask) record.error = ctx.mask(record.error);
      records[index] = record;
      await predictions.append(record);
      done++;
      ctx.onProgress?.(done, samples.length, record);
    } catch (error) {
      stop.abort(error);
    }
  };

  const started = performance.now();
  const limit = pLimit(task.concurrency);
  try {
    await Promise.all(samples.map((_, index) => limit(evaluateAt, index)));
  } finally {
    ctx.signal.removeEventListener('abort', forwardAbort);
    await predictions.close();
  }
  const wallMs = performance.now() - started;
  stop.signal.throwIfAborted();

  const result: EvalResult = {
    name: task.name,
    backend: 'native',
    dataset: task.dataset,
    metric: 'mean_acc',
    ...computeMetrics(records),
    wall_ms: Math.round(wallMs),
    predictions_file: predictionsFile,
  };
  const repeats = summarizeRepeats(records, task.repeats);
  if (repeats) result.repeats = repeats;
  await writeFile(path.join(ctx.evalDir, RESULT_FILE), JSON.stringify(result, null, 2) + '\n');
  return result;
}

/** Asks one question and scores the answer; undefined when the run was stopped meanwhile. */
async function evaluateSample(
  client: OpenAI,
  sample: Sample,
  model: string,
  generation: GenerationSettings,
  requests: RequestControllers,
): Promise<PredictionRecord | undefined> {
  const prompt = renderPrompt(sample);
  const request = buildChatRequest(model, prompt, generation);
  const controller = requests.open();
  const started = performance.now();
  let completion: Completion;
  try {
    completion = await abortable(
      generation.stream
        ? streamCompletion(client, request, controller, started, generation.timeout)
        : fetchCompletion(client, request, controller.signal),
      controller.signal,
    );
  } catch (error) {
    if (requests.stopped) return undefined;
    return {
      ...scoreCompletion(sample, prompt, null),
      error: describeRequestError(error, generation),
      latency_ms: elapsedMs(started),
    };
  } finally {
    requests.close(controller);
  }
  return { ...scoreCompletion(sample, prompt, completion), latency_ms: elapsedMs(started) };
}

/** The record for a completion (or for none, when the request failed), without timing. */
export function scoreCompletion(
  sample: Sample,
  prompt: string,
  completion: Completion | null,
): Omit<PredictionRecord, 'latency_ms'> {
  const { content, reasoning } = splitReasoning(completion?.message ?? {});
  const extracted = extractAnswer(content, choiceLetters(sample.choices.length));
  const finishReason = completion?.finishReason ?? null;
  return {
    id: sample.id,
    subset: sample.subset,
    prompt,
    content,
    reasoning,
    extracted,
    gold: sample.answer,
    correct: extracted === sample.answer,
    finish_reason: finishReason,
    // Out of budget before an answer was given: a wrong answer, but one worth telling apart.
    truncated: finishReason === 'length' && extracted === null,
    error: null,
    usage: completion?.usage ?? null,
    ttft_ms: completion?.ttftMs ?? null,
  };
}

async function fetchCompletion(
  client: OpenAI,
  request: ChatRequest,
  signal: AbortSignal,
): Promise<Completion> {
  const response = await client.chat.completions.create(request, { signal });
  const choice = response.choices[0];
  return {
    message: choice?.message ?? {},
    finishReason: choice?.finish_reason ?? null,
    usage: toTokenUsage(response.usage),
    ttftMs: null,
  };
}

async function streamCompletion(
  client: OpenAI,
  request: ChatRequest,
  controller: AbortController,
  started: number,
  timeoutSeconds: number,
): Promise<Completion> {
  const streamingRequest: StreamingChatRequest = {
    ...request,
    stream: true,
    stream_options: { include_usage: true },
  };
  const stream = await client.chat.completions.create(streamingRequest, { signal: controller.signal });
  // The client's timeout ends when the response headers arrive; a stalled stream needs its own.
  const stall = setTimeout(
    () => controller.abort(new StreamTimeoutError(timeoutSeconds)),
    timeoutSeconds * 1000,
  );
  let content = '';
  let reasoning = '';
  let reasoningContent = '';
  let finishReason: string | null = null;
  let usage: TokenUsage | null = null;
  let ttftMs: number | null = null;
  try {
    for await (const chunk of stream) {
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
  } catch (error) {
    // An error event from the server is an APIError; anything else means the connection broke off.
    if (error instanceof APIError) throw error;
    throw new Error(
      `the response stream broke off: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  } finally {
    clearTimeout(stall);
  }
  // An aborted stream ends quietly, as if complete: without this check a cut-off answer would be scored.
  controller.signal.throwIfAborted();
  return {
    message: { content, reasoning, reasoning_content: reasoningContent },
    finishReason,
    usage,
    ttftMs,
  };
}

class StreamTimeoutError extends Error {
  constructor(seconds: number) {
    super(`the response stream did not finish within ${seconds}s`);
  }
}

function toTokenUsage(usage: TokenUsage | null | undefined): TokenUsage | null {
  if (!usage) return null;
  const { prompt_tokens, completion_tokens, total_tokens } = usage;
  return { prompt_tokens, completion_tokens, total_tokens };
}

/** One line for predictions.jsonl: what failed, with the HTTP status and body when there was a response. */
export function describeRequestError(
  error: unknown,
  generation: Pick<GenerationSettings, 'timeout' | 'retries'>,
): string {
  const attempts = `${generation.retries + 1} attempt${generation.retries === 0 ? '' : 's'}`;
  if (error instanceof APIConnectionTimeoutError)
    return `timed out after ${generation.timeout}s (${attempts})`;
  if (error instanceof APIConnectionError) {
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `connection failed (${attempts})${cause}`;
  }
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

function elapsedMs(since: number): number {
  return Math.round((performance.now() - since) * 10) / 10;
}

/**
 * One AbortController per request, all aborted when the run stops. A request gets its own signal because
 * the openai client adds a listener to the signal it is given and never removes it: a shared signal
 * would collect one listener per request.
 */
class RequestControllers {
  private readonly inFlight = new Set<AbortController>();

  constructor(private readonly stop: AbortSignal) {
    stop.addEventListener(
      'abort',
      () => this.inFlight.forEach((controller) => controller.abort(stop.reason)),
      {
        once: true,
      },
    );
  }

  get stopped(): boolean {
    return this.stop.aborted;
  }

  open(): AbortController {
    const controller = new AbortController();
    if (this.stop.aborted) controller.abort(this.stop.reason);
    this.inFlight.add(controller);
    return controller;
  }

  close(controller: AbortController): void {
    this.inFlight.delete(controller);
  }
}

/** Appends JSON lines in order, each written to the file as soon as its turn comes (no sync I/O, no buffering). */
class JsonlAppender {
  private tail: Promise<void> = Promise.resolve();

  private constructor(private readonly file: FileHandle) {}

  static async open(filePath: string): Promise<JsonlAppender> {
    return new JsonlAppender(await open(filePath, 'a'));
  }

  append(value: unknown): Promise<void> {
    const line = JSON.stringify(value) + '\n';
    const written = this.tail.then(() => this.file.appendFile(line));
    // A failed write is reported to its caller; later lines still get their turn.
    this.tail = written.catch(() => undefined);
    return written;
  }

  async close(): Promise<void> {
    await this.tail;
    await this.file.close();
  }
}
