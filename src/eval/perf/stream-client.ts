import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';
import { StringDecoder } from 'node:string_decoder';
import type { RequestOutcome } from './metrics.js';

/**
 * One streamed chat completion over node:http, timed as vLLM's own benchmark client times it
 * (`vllm/benchmarks/lib/endpoint_request_func.py`): TTFT at the first chunk with choices, an ITL per later chunk,
 * latency at the last chunk. Each `data` event is stamped before anything is parsed, and a chunk's text is never
 * kept: only its arrival time. node:http rather than the openai client: no per-chunk objects beyond the parsed
 * JSON, and the stamp is taken on the socket's event itself.
 */

export interface StreamTarget {
  url: URL;
  agent: http.Agent;
  headers: Record<string, string>;
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
    this.pending += text;
    let newline = this.pending.indexOf('\n');
    while (newline >= 0) {
      this.line(this.pending.slice(0, newline).trim(), arrivedMs);
      this.pending = this.pending.slice(newline + 1);
      newline = this.pending.indexOf('\n');
    }
  }

  private line(line: string, arrivedMs: number): void {
    if (line === '' || line.startsWith(':') || this.error !== null) return;
    const payload = line.startsWith('data:') ? line.slice(5).trim() : line;
    if (payload === '[DONE]') {
      this.done = true;
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
    if (chunk.choices && chunk.choices.length > 0) {
      if (this.ttftMs === null) this.ttftMs = arrivedMs - this.startMs;
      else this.itlMs.push(arrivedMs - this.lastMs);
    }
    if (chunk.usage) this.usage = chunk.usage;
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

function networkReason(error: Error & { code?: string }): string {
  return `connection: ${error.code ?? error.message}`;
}

/** Sends one request and resolves with its outcome; never rejects. */
export function streamChat(target: StreamTarget, body: string): Promise<RequestOutcome> {
  return new Promise((resolve) => {
    const send = target.url.protocol === 'https:' ? https.request : http.request;
    let settled = false;
    const finish = (outcome: RequestOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      target.signal.removeEventListener('abort', onAbort);
      request.destroy();
      resolve(outcome);
    };
    const onAbort = (): void => finish({ ok: false, reason: 'aborted' });
    const startMs = performance.now();
    const request = send(target.url, {
      method: 'POST',
      agent: target.agent,
      headers: { 'content-type': 'application/json', ...target.headers },
    });
    const timer = setTimeout(
      () => finish({ ok: false, reason: `timed out after ${target.timeoutMs / 1000} s` }),
      target.timeoutMs,
    );
    target.signal.addEventListener('abort', onAbort, { once: true });
    request.on('error', (error) => finish({ ok: false, reason: networkReason(error) }));
    request.on('response', (response) => {
      const decoder = new StringDecoder('utf8');
      if (response.statusCode !== 200) {
        let text = '';
        response.on('data', (chunk: Buffer) => (text += decoder.write(chunk)));
        response.on('end', () =>
          finish({ ok: false, reason: `HTTP ${response.statusCode ?? 0}: ${errorMessage(text)}` }),
        );
        return;
      }
      const stream = new StreamTimer(startMs);
      response.on('data', (chunk: Buffer) => stream.feed(decoder.write(chunk), performance.now()));
      response.on('end', () => finish(stream.outcome()));
      response.on('error', (error) => finish({ ok: false, reason: networkReason(error) }));
    });
    request.end(body);
  });
}
