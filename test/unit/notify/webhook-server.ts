import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  contentType: string | undefined;
  body: unknown;
  at: number;
}

type Answer = (response: ServerResponse) => void;

export const answer = {
  json:
    (status: number, body: unknown): Answer =>
    (response) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    },
  text:
    (status: number, body: string): Answer =>
    (response) => {
      response.writeHead(status, { 'content-type': 'text/plain' });
      response.end(body);
    },
  /** Holds the request open without a word, as a server that hangs does. */
  never: (): Answer => () => undefined,
};

/**
 * A webhook endpoint on 127.0.0.1: records every request and answers from `script` in turn, then 200 `ok` (what
 * Slack answers; the other platforms' bodies are scripted where a test needs them).
 */
export class WebhookServer {
  readonly requests: ReceivedRequest[] = [];
  readonly script: Answer[] = [];
  private readonly server: Server = createServer((request, response) => this.receive(request, response));

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  get origin(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private receive(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      this.requests.push({
        method: request.method ?? '',
        url: request.url ?? '',
        contentType: request.headers['content-type'],
        body: text ? JSON.parse(text) : undefined,
        at: Date.now(),
      });
      (this.script.shift() ?? answer.text(200, 'ok'))(response);
    });
  }
}
