import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/run/manifest.js';
import { expectServerGone, readJson, runDirFrom, startCli, writeSimPlan } from './cli-helpers.js';
import { FIXTURES } from '../paths.js';

/** ModelScope's file endpoint, answering each file after `delayMs`: 200 with the fixture, or 404 when `missing`. */
async function slowModelScope(
  delayMs: number,
  missing = false,
): Promise<{ endpoint: string; server: Server }> {
  const server = createServer((request, response) => {
    const file = new URL(request.url ?? '/', 'http://x').searchParams.get('FilePath') ?? '';
    setTimeout(() => {
      if (missing) {
        response.writeHead(404, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({ Code: 10010205001, Message: `file ${file} not found`, Success: false }),
        );
        return;
      }
      response.end(readFileSync(join(FIXTURES, 'datasets', 'iquiz-like', file)));
    }, delayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

let modelScope: Server | undefined;
afterEach(async () => {
  modelScope?.closeAllConnections();
  await new Promise((resolve) => modelScope?.close(resolve) ?? resolve(undefined));
  modelScope = undefined;
});

const ms = (iso: string) => Date.parse(iso);

/** Each run downloads afresh: a cache of its own. */
const freshCache = () => mkdtempSync(join(tmpdir(), 'evalrig-run-plan-cache-'));

describe('runPlan: the datasets load while vLLM loads', () => {
  it('starts the server while a download is still going, and evaluates once both are done', async () => {
    const fake = await slowModelScope(1_500);
    modelScope = fake.server;
    const { file } = writeSimPlan({
      eval: { dataset_path: undefined, limit: 2 },
      sim: { VLLM_SIM_LOAD_TIME: '1' },
    });
    const result = await startCli(['plan', file, '--skip-preflight'], {
      MODELSCOPE_DOMAIN: fake.endpoint,
      EVALRIG_CACHE: freshCache(),
    });
    expect(result.exitCode, result.all).toBe(0);
    const runDir = runDirFrom(result.all);
    const { phases } = readJson<Manifest>(join(runDir, 'manifest.json'));
    const { datasets, start, ready } = phases;
    if (!datasets || !start || !ready) throw new Error(`phases missing: ${JSON.stringify(phases)}`);
    expect(datasets.duration_ms).toBeGreaterThanOrEqual(1_500);
    // The server was started before the data was in.
    expect(ms(start.started_at)).toBeLessThan(ms(datasets.started_at) + datasets.duration_ms);
    expect(ms(ready.started_at)).toBeLessThan(ms(datasets.started_at) + datasets.duration_ms);
    expectServerGone(runDir);
  });

  it('stops waiting for the server as soon as the data turns out broken, and tears it down', async () => {
    const fake = await slowModelScope(500, true);
    modelScope = fake.server;
    const { file } = writeSimPlan({ eval: { dataset_path: undefined }, sim: { VLLM_SIM_LOAD_TIME: '60' } });
    const started = Date.now();
    const result = await startCli(['plan', file, '--skip-preflight'], {
      MODELSCOPE_DOMAIN: fake.endpoint,
      EVALRIG_CACHE: freshCache(),
    });
    expect(result.exitCode, result.all).toBe(1);
    // Far sooner than the server's 60 s load.
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(result.all).toContain('not found');
    expect(result.all).not.toContain('not ready after');
    expectServerGone(runDirFrom(result.all));
  });
});
