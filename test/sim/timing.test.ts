import { afterEach, describe, expect, it } from 'vitest';
import { type SimHandle, killAllSims, sleep, startReadySim } from './helpers.js';

afterEach(killAllSims);

const BODY = { messages: [{ role: 'user', content: 'hello' }] };

function post(sim: SimHandle, extra: Record<string, unknown>): Promise<Response> {
  return fetch(`${sim.baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...BODY, ...extra }),
  });
}

/** Arrival times (ms since `start`) of each SSE event. */
async function eventTimes(res: Response, start: number): Promise<number[]> {
  const times: number[] = [];
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const piece of res.body as unknown as AsyncIterable<Uint8Array>) {
    buffered += decoder.decode(piece, { stream: true });
    const parts = buffered.split('\n\n');
    buffered = parts.pop() ?? '';
    for (let i = 0; i < parts.length; i++) times.push(Date.now() - start);
  }
  return times;
}

async function metrics(sim: SimHandle): Promise<{ running: number; waiting: number }> {
  const text = await (await fetch(`${sim.baseUrl}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name}\\{[^}]*\\} (\\S+)$`, 'm').exec(text)?.[1]);
  return { running: value('vllm:num_requests_running'), waiting: value('vllm:num_requests_waiting') };
}

describe('timing and capacity', () => {
  it('holds the first token back for TTFT and spreads the rest by the token latency', async () => {
    const sim = await startReadySim({ env: { VLLM_SIM_TTFT_MS: '300', VLLM_SIM_TOKEN_LATENCY_MS: '10' } });
    const start = Date.now();
    const times = await eventTimes(await post(sim, { stream: true, max_tokens: 30 }), start);
    expect(times[0]).toBeGreaterThanOrEqual(290);
    // 29 more tokens at 10 ms each after the first: the last cannot come before 300 + 290 ms, however busy the
    // machine (a late first chunk can only shorten the spread, so the spread itself is not asserted).
    const last = times[times.length - 1] ?? 0;
    expect(last).toBeGreaterThanOrEqual(580);
    expect(last).toBeLessThan(3000); // generous: CI machines are busy
    expect(times.length).toBeGreaterThan(5); // several chunks, not one burst
  });

  it('runs at most --max-num-seqs sequences; the rest wait', async () => {
    const sim = await startReadySim({
      args: ['--max-num-seqs', '2'],
      env: { VLLM_SIM_TOKEN_LATENCY_MS: '50' },
    });
    const start = Date.now();
    // Long enough (~1.5 s each) that all six are in the server together even on a busy machine.
    const requests = Array.from({ length: 6 }, () =>
      post(sim, { max_tokens: 30 }).then(async (r) => {
        expect(r.status).toBe(200);
        await r.json();
        return Date.now() - start;
      }),
    );
    let seen = { running: 0, waiting: 0 };
    for (const deadline = Date.now() + 10_000; Date.now() < deadline && seen.waiting === 0;) {
      seen = await metrics(sim);
      if (seen.waiting === 0) await sleep(10);
    }
    expect(seen.running).toBe(2);
    expect(seen.waiting).toBeGreaterThan(0);
    const finished = await Promise.all(requests);
    // Three rounds of 30 tokens at 50 ms: the last cannot end before three rounds' worth of tokens.
    expect(Math.max(...finished)).toBeGreaterThanOrEqual(3 * 29 * 50);
    expect(await metrics(sim)).toEqual({ running: 0, waiting: 0 });
  });

  it('serves 256 concurrent requests without lag', async () => {
    const sim = await startReadySim({
      args: ['--disable-log-requests'],
      env: { VLLM_SIM_TTFT_MS: '50', VLLM_SIM_TOKEN_LATENCY_MS: '5' },
    });
    const start = Date.now();
    const results = await Promise.all(
      Array.from({ length: 256 }, async (_, i) => {
        const r = await post(sim, { max_tokens: 40, stream: i % 2 === 0 });
        await r.text();
        return r.status;
      }),
    );
    const elapsed = Date.now() - start;
    expect(results.every((s) => s === 200)).toBe(true);
    // One request takes 50 + 39 × 5 ≈ 245 ms; all run in one batch. Served one after another they would take
    // 256 × 245 ms ≈ 63 s: the upper bound tells the two apart with a wide margin, it is no speed target.
    expect(elapsed).toBeGreaterThanOrEqual(240);
    expect(elapsed).toBeLessThan(12_000);
  });
});
