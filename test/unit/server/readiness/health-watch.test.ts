import { afterEach, describe, expect, it } from 'vitest';
import { ServerStoppedAnsweringError, watchHealth } from '../../../../src/server/readiness/health-watch.js';
import { fakeHandle, healthAfter, startStub, type Route, type Stub } from './stub.js';

let stub: Stub | undefined;
afterEach(async () => {
  await stub?.close();
  stub = undefined;
});

/** Settles with what the watch said within `ms`, or 'quiet'. */
function within(promise: Promise<ServerStoppedAnsweringError>, ms: number): Promise<string> {
  return Promise.race([
    promise.then((error) => error.message),
    new Promise<string>((resolve) => setTimeout(() => resolve('quiet'), ms)),
  ]);
}

describe('watchHealth', () => {
  it('stays quiet while /health answers 200', async () => {
    stub = await startStub({ '/health': healthAfter(0) });
    const watch = watchHealth(fakeHandle(stub.baseUrl), { intervalMs: 50, unhealthyAfterMs: 300 });
    expect(await within(watch.stoppedAnswering, 1_000)).toBe('quiet');
    watch.stop();
    expect(stub.hits.get('/health')).toBeGreaterThan(3);
  });

  it('says the server stopped answering once /health has failed long enough, with the last reason', async () => {
    stub = await startStub({ '/health': (_request, response) => response.writeHead(503).end() });
    const watch = watchHealth(fakeHandle(stub.baseUrl), { intervalMs: 50, unhealthyAfterMs: 300 });
    const message = await within(watch.stoppedAnswering, 10_000);
    expect(message).toMatch(
      /^vLLM stopped answering: http:\/\/127\.0\.0\.1:\d+\/health has failed for \d+ s \(last: HTTP 503\)/,
    );
    expect(message).toContain('server.unhealthy_after');
  });

  it('counts a /health that never answers as failing', async () => {
    const hanging: Route = () => undefined;
    stub = await startStub({ '/health': hanging });
    const watch = watchHealth(fakeHandle(stub.baseUrl), { intervalMs: 100, unhealthyAfterMs: 500 });
    expect(await within(watch.stoppedAnswering, 10_000)).toContain('vLLM stopped answering');
    watch.stop();
  });

  it('forgives a failure followed by a success (a slow moment under load)', async () => {
    let calls = 0;
    stub = await startStub({
      '/health': (_request, response) => response.writeHead(++calls % 3 === 0 ? 200 : 503).end(),
    });
    const watch = watchHealth(fakeHandle(stub.baseUrl), { intervalMs: 50, unhealthyAfterMs: 400 });
    expect(await within(watch.stoppedAnswering, 1_500)).toBe('quiet');
    watch.stop();
  });
});
