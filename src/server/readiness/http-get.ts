import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface HttpReply {
  status: number;
  /** The body as text, at most `maxBytes` of it. */
  text: string;
}

// Kept-alive connections: /health, /v1/models and /version follow each other within milliseconds. Idle sockets do
// not keep evalrig running.
const httpAgent = new HttpAgent({ keepAlive: true });
const httpsAgent = new HttpsAgent({ keepAlive: true });

/**
 * One GET through node:http(s), the cheapest client at hand (fetch costs several times more per request, and
 * readiness is noticed one request sooner or later). Rejects on a connection error or after `timeoutMs`.
 */
export function httpGet(
  url: string,
  options: { headers?: Record<string, string>; timeoutMs: number; maxBytes?: number },
): Promise<HttpReply> {
  const secure = url.startsWith('https:');
  const send = secure ? httpsRequest : httpRequest;
  const maxBytes = options.maxBytes ?? 1_000_000;
  return new Promise((resolve, reject) => {
    const request = send(
      url,
      { headers: options.headers, agent: secure ? httpsAgent : httpAgent },
      (response) =>
        readBody(response, maxBytes).then(
          (text) => resolve({ status: response.statusCode ?? 0, text }),
          reject,
        ),
    );
    request.setTimeout(options.timeoutMs, () =>
      request.destroy(new Error(`no answer within ${options.timeoutMs / 1000} s`)),
    );
    request.once('error', reject);
    request.end();
  });
}

function readBody(response: IncomingMessage, maxBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      if (size < maxBytes) chunks.push(chunk);
      size += chunk.length;
    });
    response.once('end', () => resolve(Buffer.concat(chunks).toString('utf8').slice(0, maxBytes)));
    response.once('error', reject);
  });
}
