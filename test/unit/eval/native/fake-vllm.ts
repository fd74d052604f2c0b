import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A small HTTP server in the test's own process that answers /v1/chat/completions the way vLLM does, or fails the
// way a test tells it to: for fault shapes the simulator has no knob for (a socket cut mid-stream, a stall,
// Retry-After).

export interface ChatCall {
  /** 1 for the first chat request this server received. */
  n: number;
  /** The user message. */
  prompt: string;
  stream: boolean;
}

export type ChatHandler = (call: ChatCall, response: ServerResponse) => void | Promise<void>;

export interface FakeVllm {
  /** Base URL with `/v1`, as the openai client wants it. */
  baseUrl: string;
  /** Every chat request received, in order. */
  calls: ChatCall[];
  close(): Promise<void>;
}

export async function startFakeVllm(handler: ChatHandler): Promise<FakeVllm> {
  const calls: ChatCall[] = [];
  const server = createServer((request, response) => {
    void readJson(request).then(async (body) => {
      const call: ChatCall = {
        n: calls.length + 1,
        prompt: body.messages?.[0]?.content ?? '',
        stream: body.stream === true,
      };
      calls.push(call);
      await handler(call, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

interface ChatBody {
  messages?: { content?: string }[];
  stream?: boolean;
}

async function readJson(request: IncomingMessage): Promise<ChatBody> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return JSON.parse(text) as ChatBody;
}

const USAGE = { prompt_tokens: 30, total_tokens: 42, completion_tokens: 12 };

/** A finished answer in vLLM's shape (≥0.16 names its reasoning field `reasoning`), streamed when asked. */
export function answer(call: ChatCall, response: ServerResponse, content = '答案：B'): void {
  if (call.stream) {
    startStream(response);
    sendChunk(response, { role: 'assistant', reasoning: '想一想' });
    sendChunk(response, { content }, 'stop');
    endStream(response);
    return;
  }
  sendJson(response, 200, {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 0,
    model: 'm',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', reasoning: '想一想', content },
        finish_reason: 'stop',
      },
    ],
    usage: USAGE,
  });
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

/** vLLM's error body (nested envelope) with the status as its code. */
export function sendError(
  response: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(response, status, { error: { message, type: 'Error', param: null, code: status } }, headers);
}

export function startStream(response: ServerResponse): void {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
}

export function sendChunk(response: ServerResponse, delta: object, finishReason: string | null = null): void {
  const chunk = {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 0,
    model: 'm',
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
  response.write(`data: ${JSON.stringify(chunk)}\n\n`);
}

/** The usage chunk and `[DONE]`, as vLLM ends a stream with include_usage. */
export function endStream(response: ServerResponse): void {
  response.write(`data: ${JSON.stringify({ id: 'chatcmpl-1', choices: [], usage: USAGE })}\n\n`);
  response.end('data: [DONE]\n\n');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
