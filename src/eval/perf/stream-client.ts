import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import type { Connections, Exchange } from './connections.js';
import type { RequestOutcome } from './metrics.js';

/**
 * One streamed chat completion on a kept-alive connection (connections.ts), timed as vLLM's own benchmark client
 * times it (`vllm/benchmarks/lib/endpoint_request_func.py`): TTFT at the first chunk with choices, an ITL per later
 * chunk, latency at the last chunk. Bytes are stamped as the connection delivers them, before anything parses them, and
 * a chunk's text is never kept: only its arrival time. Not the openai client: it builds a web stream and an
 * object per chunk, and costs several times more per request (docs/perf.md).
 */

export interface StreamTarget {
  /** Connections to the server, its URL and headers (authorization) included. */
  connections: Connections;
  timeoutMs: number;
  signal: AbortSignal;
}

interface ChunkFields {
  choices?: unknown[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string } | string;
  message?: string;
}

const REASON_LENGTH = 160;

/** The error message of a vLLM error body: nested `{error: {message}}` (≥0.10.1) or flat `{message}`. */
export function errorMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as ChunkFields;
    const nested = typeof parsed.error === 'object' ? parsed.error.message : parsed.error;
    const message = nested ?? parsed.message;
    if (typeof message === 'string') return message.slice(0, REASON_LENGTH);
  } catch {
    // Not JSON: the text itself.
  }
  return body.trim().slice(0, REASON_LENGTH) || 'empty body';
}

/** Reads SSE lines as they arrive and keeps only the figures. */
export class StreamTimer {
  private ttftMs: number | null = null;
  private lastMs = 0;
  private readonly itlMs: number[] = [];
  private usage: ChunkFields['usage'] = null;
  private pending = '';
  private error: string | null = null;
  done = false;

  constructor(private readonly startMs: number) {}

  /** Text of one `data` event, stamped with its arrival time by the caller. */
  feed(text: string, arrivedMs: number): void {
    const buffered = this.pending === '' ? text : this.pending + text;
    let start = 0;
    for (let newline = buffered.indexOf('\n'); newline >= 0; newline = buffered.indexOf('\n', start)) {
      this.line(buffered.slice(start, newline).trim(), arrivedMs);
      start = newline + 1;
    }
    this.pending = start === 0 ? buffered : buffered.slice(start);
  }

  private line(line: string, arrivedMs: number): void {
    if (line === '' || line.startsWith(':') || this.error !== null) return;
    const payload = line.startsWith('data:') ? line.slice(5).trim() : line;
    if (payload === '[DONE]') {
      this.done = true;
      return;
    }
    // A token chunk, by far the most frequent, needs no parsing: only its arrival counts. The key `"choices":[{`
    // cannot occur inside a JSON string, whose quotes are escaped; a chunk that also carries usage is parsed.
    if (payload.includes('"choices":[{') && !payload.includes('"usage":{')) {
      this.tokenChunk(arrivedMs);
      return;
    }
    let chunk: ChunkFields;
    try {
      chunk = JSON.parse(payload) as ChunkFields;
    } catch {
      this.error = `unparsable chunk: ${payload.slice(0, 60)}`;
      return;
    }
    if (chunk.error !== undefined) {
      this.error = `stream error: ${errorMessage(payload)}`;
      return;
    }
    if (chunk.choices && chunk.choices.length > 0) this.tokenChunk(arrivedMs);
    if (chunk.usage) this.usage = chunk.usage;
    this.lastMs = arrivedMs;
  }

  private tokenChunk(arrivedMs: number): void {
    if (this.ttftMs === null) this.ttftMs = arrivedMs - this.startMs;
    else this.itlMs.push(arrivedMs - this.lastMs);
    this.lastMs = arrivedMs;
  }

  outcome(): RequestOutcome {
    if (this.error !== null) return { ok: false, reason: this.error };
    if (!this.done) return { ok: false, reason: 'stream ended before [DONE]' };
    if (this.ttftMs === null) return { ok: false, reason: 'no tokens in the stream' };
    const { prompt_tokens: promptTokens, completion_tokens: outputTokens } = this.usage ?? {};
    if (typeof promptTokens !== 'number' || typeof outputTokens !== 'number')
      return { ok: false, reason: 'no usage in the stream (stream_options.include_usage)' };
    return {
      ok: true,
      ttftMs: this.ttftMs,
      itlMs: this.itlMs,
      latencyMs: this.lastMs - this.startMs,
      promptTokens,
      outputTokens,
    };
  }
}

/** Sends one request and resolves with its outcome; never rejects. */
export function streamChat(target: StreamTarget, body: string): Promise<RequestOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    // undici reports a failure to dispatch (its pool closed) before post() returns, so finish() may run first.
    const inFlight: { exchange?: Exchange; timer?: NodeJS.Timeout } = {};
    const finish = (outcome: RequestOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(inFlight.timer);
      target.signal.removeEventListener('abort', onAbort);
      inFlight.exchange?.cancel();
      resolve(outcome);
    };
    const onAbort = (): void => finish({ ok: false, reason: 'aborted' });
    const decoder = new StringDecoder('utf8');
    let status = 0;
    let errorText = '';
    const startMs = performance.now();
    const stream = new StreamTimer(startMs);
    inFlight.exchange = target.connections.post(body, {
      onStatus: (code) => (status = code),
      onBody: (piece, arrivedMs) => {
        if (status === 200) stream.feed(decoder.write(piece), arrivedMs);
        else errorText += decoder.write(piece);
      },
      onEnd: () =>
        finish(
          status === 200
            ? stream.outcome()
            : { ok: false, reason: `HTTP ${status}: ${errorMessage(errorText)}` },
        ),
      onError: (reason) => finish({ ok: false, reason }),
    });
    if (settled) return;
    inFlight.timer = setTimeout(
      () => finish({ ok: false, reason: `timed out after ${target.timeoutMs / 1000} s` }),
      target.timeoutMs,
    );
    target.signal.addEventListener('abort', onAbort, { once: true });
  });
}
