import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type OpenAI from 'openai';
import type { Sample } from '../../datasets/types.js';
import type { GenerationSettings } from '../../plan/schema.js';
import { ServerUnresponsiveError } from '../errors.js';
import type { Endpoint, EvalResult, PredictionRecord } from '../types.js';
import { JsonlAppender, PREDICTIONS_FILE, RESULT_FILE, takeEarlierPredictions } from './predictions-file.js';
import { renderPrompt } from './prompt.js';
import { buildChatRequest, createClient, RequestControllers, requestWithRetries } from './request.js';
import { ScoreTally, scoreCompletion } from './score.js';

export interface NativeRunContext {
  /** Folder for `predictions.jsonl` (one line per finished sample, appended as it finishes) and `result.json`. */
  evalDir: string;
  /** Aborting stops scheduling, cancels the requests in flight and rejects with the signal's reason. */
  signal: AbortSignal;
  /**
   * Continue an interrupted run in the same folder: samples whose newest line in predictions.jsonl is finished
   * (an answer or a permanent error) are counted as they are, the others asked again. Without it the file starts
   * empty.
   */
  resume?: boolean;
  /** Called after each sample, and once before the first request when earlier samples were taken over. */
  onProgress?: (progress: EvalProgress) => void;
  /** Applied to request error texts before they are written (a body may echo a key). */
  mask?: (text: string) => string;
}

export interface EvalProgress {
  /** Samples counted, taken-over ones included. */
  done: number;
  correct: number;
  total: number;
}

/** What the runner needs of an evaluation: its names for the result, how many at once, how to ask. */
export interface NativeTask {
  name: string;
  dataset: string;
  /** Requests in flight at most. */
  concurrency: number;
  /** Sampling, `max_tokens`, streaming, the time limits, retries and the circuit breaker. */
  generation: GenerationSettings;
  /** Passes over the data (seeded repeats): the result reports each pass's accuracy and their spread. */
  repeats: number;
}

/**
 * Asks every sample's question (at most `task.concurrency` at once), scores the answers and writes
 * `predictions.jsonl` and `result.json` into `ctx.evalDir`. A request that still fails after its retries is
 * recorded as an error (a wrong answer) and the run goes on, until `max_consecutive_failures` of them in a row
 * say that the server stopped answering: then it rejects with ServerUnresponsiveError. Only counts are kept in
 * memory, never the records.
 */
export async function runNative(
  task: NativeTask,
  samples: Sample[],
  endpoint: Endpoint,
  ctx: NativeRunContext,
): Promise<EvalResult> {
  // Aborted by the caller's signal or by a failure that makes going on pointless (the disk is full, the server
  // stopped answering). Linked before the first await, and an abort that came earlier is passed on at once.
  const stop = new AbortController();
  const forwardAbort = (): void => stop.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', forwardAbort, { once: true });
  if (ctx.signal.aborted) forwardAbort();
  try {
    return await evaluateAll(task, samples, endpoint, ctx, stop);
  } finally {
    ctx.signal.removeEventListener('abort', forwardAbort);
  }
}

async function evaluateAll(
  task: NativeTask,
  samples: Sample[],
  endpoint: Endpoint,
  ctx: NativeRunContext,
  stop: AbortController,
): Promise<EvalResult> {
  stop.signal.throwIfAborted();
  const { generation } = task;
  await mkdir(ctx.evalDir, { recursive: true });
  const predictionsFile = path.join(ctx.evalDir, PREDICTIONS_FILE);
  const tally = new ScoreTally(samples.map((sample) => sample.subset));
  const earlier = ctx.resume ? await takeEarlierPredictions(predictionsFile, samples, tally) : undefined;
  stop.signal.throwIfAborted();
  const predictions = await JsonlAppender.open(predictionsFile, { fresh: !ctx.resume });

  const report = (): void => {
    const { num, correct } = tally.progress;
    ctx.onProgress?.({ done: num, correct, total: samples.length });
  };
  if (earlier && earlier.finished.size > 0) report();

  const client = createClient(endpoint, generation);
  const requests = new RequestControllers(stop.signal);
  let retries = earlier?.retries ?? 0;
  let failuresInARow = 0;
  const finishSample = async (sample: Sample): Promise<void> => {
    const record = await evaluateSample(client, sample, endpoint.servedModel, generation, requests);
    if (record.error !== null && ctx.mask) record.error = ctx.mask(record.error);
    // The worker asks its next question while the line is written (in order, closed before the result); a write
    // that fails (a full disk) stops the evaluation.
    predictions.append(record).catch((error: unknown) => stop.abort(error));
    tally.add(record);
    retries += record.attempts - 1;
    report();
    failuresInARow = record.error_kind === 'transient' ? failuresInARow + 1 : 0;
    if (failuresInARow >= generation.max_consecutive_failures)
      stop.abort(new ServerUnresponsiveError(failuresInARow, record.error ?? ''));
  };

  // One iterator shared by the workers, each taking the next sample when it is free: memory stays flat in the
  // number of samples, where a queue of one pending task per sample (p-limit's) would not.
  const toAsk = unfinished(samples, earlier?.finished);
  const worker = async (): Promise<void> => {
    for (const sample of toAsk) {
      if (stop.signal.aborted) return;
      try {
        await finishSample(sample);
      } catch (error) {
        // After a stop this is its reason again, and aborting once more changes nothing.
        stop.abort(error);
      }
    }
  };

  const started = performance.now();
  try {
    await Promise.all(Array.from({ length: task.concurrency }, worker));
  } finally {
    await predictions.close();
  }
  const wallMs = performance.now() - started;
  stop.signal.throwIfAborted();

  const result: EvalResult = {
    name: task.name,
    backend: 'native',
    dataset: task.dataset,
    metric: 'mean_acc',
    ...tally.metrics(),
    retries,
    wall_ms: Math.round(wallMs),
    predictions_file: predictionsFile,
  };
  if (earlier) result.resumed = earlier.finished.size;
  const repeats = tally.repeatSummary(task.repeats);
  if (repeats) result.repeats = repeats;
  await writeFile(path.join(ctx.evalDir, RESULT_FILE), JSON.stringify(result, null, 2) + '\n');
  return result;
}

function* unfinished(samples: Sample[], finished: ReadonlySet<string> = new Set()): Generator<Sample> {
  for (const sample of samples) if (!finished.has(sample.id)) yield sample;
}

/** Asks one question (retrying what may pass) and scores the answer; rejects only once the run stops. */
async function evaluateSample(
  client: OpenAI,
  sample: Sample,
  model: string,
  generation: GenerationSettings,
  requests: RequestControllers,
): Promise<PredictionRecord> {
  const prompt = renderPrompt(sample);
  const outcome = await requestWithRetries(
    client,
    buildChatRequest(model, prompt, generation),
    generation,
    requests,
  );
  if ('completion' in outcome) {
    const { completion, attempts } = outcome;
    return { ...scoreCompletion(sample, prompt, completion), latency_ms: completion.latencyMs, attempts };
  }
  return {
    ...scoreCompletion(sample, prompt, null),
    error: outcome.error,
    error_kind: outcome.kind,
    latency_ms: outcome.elapsedMs,
    attempts: outcome.attempts,
  };
}
