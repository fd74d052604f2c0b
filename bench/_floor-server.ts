/**
 * The least an HTTP server can do for the eval-overhead floor: every POST is answered with one fixed chat completion
 * exactly `latency` ms after its body arrived, nothing parsed, tokenized or logged. Run as its own process (as the
 * simulator is): `node --import tsx bench/_floor-server.ts <latency-ms>`; prints the port once it listens.
 */
import { createServer } from 'node:http';

const latencyMs = Number(process.argv[2]);
const body = JSON.stringify({
  id: 'chatcmpl-floor',
  object: 'chat.completion',
  model: 'bench',
  choices: [{ index: 0, message: { role: 'assistant', content: 'A' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
});
const server = createServer((request, response) => {
  request.resume();
  request.on('end', () =>
    setTimeout(() => {
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      response.end(body);
    }, latencyMs),
  );
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address && typeof address === 'object') console.log(address.port);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
