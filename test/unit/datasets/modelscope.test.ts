import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadMcqDataset } from '../../../src/datasets/mcq/load.js';
import { DatasetError } from '../../../src/datasets/problems.js';
import { defaultCacheDir } from '../../../src/util/paths.js';
import {
  defaultModelScopeEndpoint,
  fetchModelScopeFiles,
  modelScopeErrorMessage,
  modelScopeFileUrl,
  type ModelScopeProgress,
} from '../../../src/datasets/modelscope.js';
import { resolveDatasetSource } from '../../../src/datasets/resolve.js';
import { FIXTURES } from '../../paths.js';

const fixtureFolder = join(FIXTURES, 'datasets', 'iquiz-like');
const DATASET = 'AI-ModelScope/IQuiz';
const FILES = ['IQ.jsonl', 'EQ.jsonl'];
const REPO_PATH = `/api/v1/datasets/${DATASET}/repo`;

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');
/** The first try and the default 3 retries. */
const ATTEMPTS = 4;

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

/**
 * Answers like ModelScope's repo file endpoint: 200 with the raw bytes, or a JSON error body with a non-200
 * status for an unknown file. `script` lets a test replace the next answers (a 500, a cut connection, …).
 */
class FakeModelScope {
  readonly requests: string[] = [];
  /** When each request arrived (ms since the epoch), in the order of `requests`. */
  readonly arrivals: number[] = [];
  readonly script: Handler[] = [];
  private server: Server | undefined;

  constructor(readonly files: Map<string, Buffer>) {}

  get endpoint(): string {
    const { port } = this.server?.address() as AddressInfo;
    return `http://127.0.0.1:${port}`;
  }

  requestsFor(file: string): number {
    return this.requests.filter((url) => new URL(url, 'http://x').searchParams.get('FilePath') === file)
      .length;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      this.requests.push(request.url ?? '');
      this.arrivals.push(Date.now());
      const scripted = this.script.shift();
      if (scripted) return scripted(request, response);
      const url = new URL(request.url ?? '/', 'http://x');
      const body = this.files.get(url.searchParams.get('FilePath') ?? '');
      const wellFormed =
        url.pathname === REPO_PATH &&
        url.searchParams.get('Source') === 'SDK' &&
        url.searchParams.get('Revision') === 'master' &&
        url.searchParams.get('View') === 'False';
      if (wellFormed && body) {
        response.writeHead(200, {
          'content-type': 'application/octet-stream',
          'content-length': body.length,
        });
        response.end(body);
        return;
      }
      sendModelScopeError(response, 404, `file ${url.searchParams.get('FilePath')} not found`);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

/** The same answer `times` times in a row. */
const repeated = (handler: Handler, times: number): Handler[] => Array.from({ length: times }, () => handler);

const unavailable: Handler = (_request, response) => {
  response.writeHead(503, { 'content-type': 'text/html' });
  response.end('<html>busy</html>');
};

function sendModelScopeError(response: ServerResponse, status: number, message: string): void {
  const body = JSON.stringify({
    Code: 10010205001,
    Message: message,
    RequestId: 'test-request',
    Success: false,
  });
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(body);
}

let iqBytes: Buffer;
let eqBytes: Buffer;
beforeAll(async () => {
  iqBytes = await readFile(join(fixtureFolder, 'IQ.jsonl'));
  eqBytes = await readFile(join(fixtureFolder, 'EQ.jsonl'));
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function setup(): Promise<{ server: FakeModelScope; cacheDir: string; folder: string }> {
  const server = await new FakeModelScope(
    new Map([
      ['IQ.jsonl', iqBytes],
      ['EQ.jsonl', eqBytes],
    ]),
  ).start();
  const cacheDir = await mkdtemp(join(tmpdir(), 'evalrig-cache-'));
  cleanups.push(
    () => server.stop(),
    () => rm(cacheDir, { recursive: true, force: true }),
  );
  return { server, cacheDir, folder: join(cacheDir, 'datasets', 'AI-ModelScope', 'IQuiz', 'master') };
}

/** No test may reach the real ModelScope: every call names the fake endpoint and a short retry pause. */
function fetchIquiz(
  server: FakeModelScope,
  cacheDir: string,
  extra: Partial<Parameters<typeof fetchModelScopeFiles>[0]> = {},
) {
  return fetchModelScopeFiles({
    dataset: DATASET,
    files: FILES,
    cacheDir,
    retryDelayMs: 10,
    ...extra,
    endpoint: extra.endpoint ?? server.endpoint,
  });
}

async function errorOf(promise: Promise<unknown>): Promise<DatasetError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DatasetError);
  return error as DatasetError;
}

/** Names in the cache folder, temp files included, so a test can see that nothing partial was left. */
async function cacheListing(folder: string): Promise<string[]> {
  return (await readdir(folder).catch(() => [])).sort();
}

describe('URL, endpoint and cache defaults', () => {
  it('builds the SDK URL, parameters in the SDK order (modelscope/hub/api.py)', () => {
    expect(modelScopeFileUrl('https://www.modelscope.cn', DATASET, 'master', 'README.md')).toBe(
      'https://www.modelscope.cn/api/v1/datasets/AI-ModelScope/IQuiz/repo?Source=SDK&Revision=master&FilePath=README.md&View=False',
    );
    expect(modelScopeFileUrl('http://h/', DATASET, 'v1', 'data/a b.jsonl')).toBe(
      'http://h/api/v1/datasets/AI-ModelScope/IQuiz/repo?Source=SDK&Revision=v1&FilePath=data%2Fa+b.jsonl&View=False',
    );
  });

  it('takes the endpoint from MODELSCOPE_DOMAIN and the cache from EVALRIG_CACHE', () => {
    expect(defaultModelScopeEndpoint({})).toBe('https://www.modelscope.cn');
    expect(defaultModelScopeEndpoint({ MODELSCOPE_DOMAIN: 'www.modelscope.ai' })).toBe(
      'https://www.modelscope.ai',
    );
    expect(defaultModelScopeEndpoint({ MODELSCOPE_DOMAIN: 'http://10.0.0.2:8080' })).toBe(
      'http://10.0.0.2:8080',
    );
    expect(defaultCacheDir({ EVALRIG_CACHE: '/data/cache' })).toBe('/data/cache');
    expect(defaultCacheDir({ EVALRIG_CACHE: '~/cache' })).toBe(join(homedir(), 'cache'));
    expect(defaultCacheDir({})).toMatch(/\.cache\/evalrig$/);
  });

  it('recognises a ModelScope JSON error body, and only that', () => {
    expect(modelScopeErrorMessage('{"Code":10010205001,"Message":"not found","Success":false}')).toBe(
      'not found (Code 10010205001)',
    );
    expect(modelScopeErrorMessage('{"question":"q","choices":["a","b"],"answer":"A"}')).toBeUndefined();
    expect(modelScopeErrorMessage('{"Code":200,"Message":"ok"}')).toBeUndefined();
    expect(modelScopeErrorMessage('not json')).toBeUndefined();
  });

  it('refuses dataset ids and file paths that could leave the cache folder', async () => {
    await expect(fetchModelScopeFiles({ dataset: 'IQuiz', files: FILES, offline: true })).rejects.toThrow(
      /<namespace>\/<name>/,
    );
    await expect(
      fetchModelScopeFiles({ dataset: DATASET, files: ['../x.jsonl'], offline: true }),
    ).rejects.toThrow(/not a file path inside a dataset repository/);
    await expect(
      fetchModelScopeFiles({ dataset: DATASET, files: FILES, revision: '..', offline: true }),
    ).rejects.toThrow(/not a branch or tag/);
  });
});

describe('fetchModelScopeFiles against a local ModelScope stand-in', () => {
  it('downloads each file once, records sha256 in manifest.json, then serves the cache without a request', async () => {
    const { server, cacheDir, folder } = await setup();
    const events: ModelScopeProgress['kind'][] = [];
    const first = await fetchIquiz(server, cacheDir, { onProgress: (event) => events.push(event.kind) });

    expect(server.requests).toEqual([
      `${REPO_PATH}?Source=SDK&Revision=master&FilePath=IQ.jsonl&View=False`,
      `${REPO_PATH}?Source=SDK&Revision=master&FilePath=EQ.jsonl&View=False`,
    ]);
    expect(first.folder).toBe(folder);
    expect(first.files).toEqual([
      {
        file: 'IQ.jsonl',
        path: join(folder, 'IQ.jsonl'),
        sha256: sha256(iqBytes),
        bytes: iqBytes.length,
        url: `${server.endpoint}${REPO_PATH}?Source=SDK&Revision=master&FilePath=IQ.jsonl&View=False`,
        fromCache: false,
      },
      expect.objectContaining({ file: 'EQ.jsonl', sha256: sha256(eqBytes), fromCache: false }),
    ]);
    expect(await readFile(join(folder, 'IQ.jsonl'))).toEqual(iqBytes);
    expect(events).toEqual(['download', 'data', 'done', 'download', 'data', 'done']);
    expect(await cacheListing(folder)).toEqual(['EQ.jsonl', 'IQ.jsonl', 'manifest.json']);
    const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as {
      files: Record<string, { sha256: string; bytes: number }>;
    };
    expect(manifest.files['IQ.jsonl']).toMatchObject({ sha256: sha256(iqBytes), bytes: iqBytes.length });

    const second = await fetchIquiz(server, cacheDir);
    expect(server.requests).toHaveLength(2);
    expect(second.files.map((f) => [f.file, f.fromCache, f.sha256])).toEqual([
      ['IQ.jsonl', true, sha256(iqBytes)],
      ['EQ.jsonl', true, sha256(eqBytes)],
    ]);
  });

  it('downloads again a cached file whose checksum no longer matches the manifest', async () => {
    const { server, cacheDir, folder } = await setup();
    await fetchIquiz(server, cacheDir);
    await writeFile(join(folder, 'IQ.jsonl'), '{"question": "edited by hand"}\n');

    const events: ModelScopeProgress[] = [];
    const again = await fetchIquiz(server, cacheDir, { onProgress: (event) => events.push(event) });
    expect(server.requestsFor('IQ.jsonl')).toBe(2);
    expect(server.requestsFor('EQ.jsonl')).toBe(1);
    expect(again.files.map((f) => f.fromCache)).toEqual([false, true]);
    expect(await readFile(join(folder, 'IQ.jsonl'))).toEqual(iqBytes);
    expect(events[0]).toMatchObject({ kind: 'stale', file: 'IQ.jsonl' });
  });

  it('adopts a file copied into the cache folder by hand, without a request', async () => {
    const { server, cacheDir, folder } = await setup();
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'IQ.jsonl'), iqBytes);
    await writeFile(join(folder, 'EQ.jsonl'), eqBytes);
    const result = await fetchIquiz(server, cacheDir, { offline: true });
    expect(server.requests).toEqual([]);
    expect(result.files.map((f) => f.fromCache)).toEqual([true, true]);
    const manifest = JSON.parse(await readFile(join(folder, 'manifest.json'), 'utf8')) as {
      files: Record<string, { sha256: string; adopted?: boolean }>;
    };
    expect(manifest.files['EQ.jsonl']).toMatchObject({ sha256: sha256(eqBytes), adopted: true });
  });

  it('offline with a cold cache: no request, and an error that says what is missing, where, and what to do', async () => {
    const { server, cacheDir, folder } = await setup();
    const calls: string[] = [];
    const fetchImpl: typeof fetch = (input) => {
      calls.push(String(input));
      return Promise.reject(new Error('offline mode must not fetch'));
    };
    const error = await errorOf(fetchIquiz(server, cacheDir, { offline: true, fetchImpl }));
    expect(calls).toEqual([]);
    expect(server.requests).toEqual([]);
    expect(error.message).toContain(
      'Offline: the ModelScope dataset AI-ModelScope/IQuiz (revision master) is not complete in the cache.',
    );
    expect(error.message).toContain('Missing:  IQ.jsonl, EQ.jsonl');
    expect(error.message).toContain(`Looked in: ${folder}`);
    expect(error.message).toContain('run once with network access');
    expect(error.message).toContain('set dataset_path to a folder that holds IQ.jsonl, EQ.jsonl');
    expect(error.message).toContain(`copy the files into ${folder}`);
  });

  it('offline with a warm cache works; offline with a changed file says so', async () => {
    const { server, cacheDir, folder } = await setup();
    await fetchIquiz(server, cacheDir);
    const warm = await fetchIquiz(server, cacheDir, { offline: true });
    expect(warm.files.every((f) => f.fromCache)).toBe(true);

    await writeFile(join(folder, 'EQ.jsonl'), 'changed\n');
    const error = await errorOf(fetchIquiz(server, cacheDir, { offline: true }));
    expect(error.message).toMatch(
      /Changed since download \(checksum differs from manifest\.json\): EQ\.jsonl/,
    );
    expect(error.message).not.toContain('Missing:');
    expect(server.requests).toHaveLength(2);
  });

  it('a 404 with a ModelScope error body: no retry, nothing cached, an error naming the URL and what to do', async () => {
    const { server, cacheDir, folder } = await setup();
    const error = await errorOf(fetchIquiz(server, cacheDir, { files: ['IQ.jsonl', 'missing.jsonl'] }));
    const url = `${server.endpoint}${REPO_PATH}?Source=SDK&Revision=master&FilePath=missing.jsonl&View=False`;
    expect(error.message).toContain(
      'Could not download missing.jsonl of the ModelScope dataset AI-ModelScope/IQuiz (revision master).',
    );
    expect(error.message).toContain(`URL:    ${url}`);
    expect(error.message).toContain(
      'Reason: HTTP 404 Not Found; ModelScope says: file missing.jsonl not found (Code 10010205001)',
    );
    expect(error.message).toContain('check the dataset id, the revision and the file name');
    expect(error.message).toContain('set dataset_path');
    expect(error.message).toContain('MODELSCOPE_DOMAIN=www.modelscope.ai');
    expect(server.requestsFor('missing.jsonl')).toBe(1);
    // The file that did download stays usable; nothing partial is left.
    expect(await cacheListing(folder)).toEqual(['IQ.jsonl', 'manifest.json']);
  });

  it('a 500 then success: retried once and downloaded', async () => {
    const { server, cacheDir } = await setup();
    server.script.push((_request, response) => sendModelScopeError(response, 500, 'internal error'));
    const events: ModelScopeProgress[] = [];
    const result = await fetchIquiz(server, cacheDir, { onProgress: (event) => events.push(event) });
    expect(server.requestsFor('IQ.jsonl')).toBe(2);
    expect(result.files[0]).toMatchObject({ file: 'IQ.jsonl', sha256: sha256(iqBytes), fromCache: false });
    expect(events.find((event) => event.kind === 'retry')).toMatchObject({
      file: 'IQ.jsonl',
      reason: 'HTTP 500 Internal Server Error; ModelScope says: internal error (Code 10010205001)',
    });
  });

  it('a 503 then a 200: retried and downloaded', async () => {
    const { server, cacheDir } = await setup();
    server.script.push(unavailable);
    const result = await fetchIquiz(server, cacheDir);
    expect(server.requestsFor('IQ.jsonl')).toBe(2);
    expect(result.files[0]).toMatchObject({ file: 'IQ.jsonl', sha256: sha256(iqBytes), fromCache: false });
  });

  it('a connection reset before any answer: retried and downloaded', async () => {
    const { server, cacheDir } = await setup();
    server.script.push((request) => request.socket.destroy());
    const result = await fetchIquiz(server, cacheDir);
    expect(server.requestsFor('IQ.jsonl')).toBe(2);
    expect(result.files[0]).toMatchObject({ file: 'IQ.jsonl', sha256: sha256(iqBytes), fromCache: false });
  });

  it('a 5xx every time: gives up after 3 retries, saying so', async () => {
    const { server, cacheDir, folder } = await setup();
    server.script.push(...repeated(unavailable, ATTEMPTS));
    const retries: ModelScopeProgress[] = [];
    const error = await errorOf(
      fetchIquiz(server, cacheDir, {
        onProgress: (event) => (event.kind === 'retry' ? retries.push(event) : undefined),
      }),
    );
    expect(error.message).toContain('Reason: HTTP 503 Service Unavailable (gave up after 4 attempts)');
    expect(error.message).not.toContain('check the dataset id');
    expect(server.requests).toHaveLength(ATTEMPTS);
    expect(retries).toHaveLength(ATTEMPTS - 1);
    expect(await cacheListing(folder)).toEqual([]);
  });

  it('the number of retries can be set', async () => {
    const { server, cacheDir } = await setup();
    server.script.push(...repeated(unavailable, 2));
    const error = await errorOf(fetchIquiz(server, cacheDir, { retries: 1 }));
    expect(error.message).toContain('(gave up after 2 attempts)');
    expect(server.requests).toHaveLength(2);
  });

  it('a 429 with Retry-After: waits as long as the server asks, then downloads', async () => {
    const { server, cacheDir } = await setup();
    server.script.push((_request, response) => {
      response.writeHead(429, { 'retry-after': '1' });
      response.end();
    });
    const events: ModelScopeProgress[] = [];
    const result = await fetchIquiz(server, cacheDir, { onProgress: (event) => events.push(event) });
    expect(result.files[0]).toMatchObject({ file: 'IQ.jsonl', fromCache: false });
    expect(server.requestsFor('IQ.jsonl')).toBe(2);
    // The backoff alone (retryDelayMs 10) would retry within 20 ms; timers may fire a little early.
    const [first = 0, second = 0] = server.arrivals;
    expect(second - first).toBeGreaterThanOrEqual(950);
    expect(events.find((event) => event.kind === 'retry')).toMatchObject({
      reason: 'HTTP 429 Too Many Requests',
    });
  });

  it('a 429 asking for a longer wait than evalrig allows: no retry, and the error says why', async () => {
    const { server, cacheDir } = await setup();
    server.script.push((_request, response) => {
      response.writeHead(429, { 'retry-after': '3600' });
      response.end();
    });
    const error = await errorOf(fetchIquiz(server, cacheDir));
    expect(error.message).toContain(
      'Reason: HTTP 429 Too Many Requests; it asks to wait 3600 s before trying again',
    );
    expect(error.message).not.toContain('check the dataset id');
    expect(server.requests).toHaveLength(1);
  });

  it('a 401 is not retried either', async () => {
    const { server, cacheDir } = await setup();
    server.script.push((_request, response) => sendModelScopeError(response, 401, 'login required'));
    const error = await errorOf(fetchIquiz(server, cacheDir));
    expect(error.message).toContain('Reason: HTTP 401 Unauthorized; ModelScope says: login required');
    expect(error.message).toContain('check the dataset id');
    expect(server.requests).toHaveLength(1);
  });

  it('a body cut short: retried, and no partial file is left when every attempt fails', async () => {
    const { server, cacheDir, folder } = await setup();
    const truncated: Handler = (_request, response) => {
      response.writeHead(200, { 'content-length': iqBytes.length });
      response.write(iqBytes.subarray(0, 10), () => response.destroy());
    };
    server.script.push(...repeated(truncated, ATTEMPTS));
    const error = await errorOf(fetchIquiz(server, cacheDir));
    expect(error.message).toMatch(/Reason: network error/);
    expect(server.requests).toHaveLength(ATTEMPTS);
    expect(await cacheListing(folder)).toEqual([]);
  });

  it('a 200 carrying a ModelScope JSON error instead of the file is an error, not a cached file', async () => {
    const { server, cacheDir, folder } = await setup();
    server.script.push((_request, response) =>
      sendModelScopeError(response, 200, 'Revision master not exist'),
    );
    const error = await errorOf(fetchIquiz(server, cacheDir));
    expect(error.message).toContain(
      'Reason: ModelScope answered with an error instead of the file: Revision master not exist (Code 10010205001)',
    );
    expect(server.requests).toHaveLength(1);
    expect(await cacheListing(folder)).toEqual([]);
  });

  it('a server that does not answer: timeout, retries, a clear reason', async () => {
    const { server, cacheDir } = await setup();
    const silent: Handler = () => undefined;
    server.script.push(...repeated(silent, ATTEMPTS));
    const error = await errorOf(fetchIquiz(server, cacheDir, { timeoutMs: 200 }));
    expect(error.message).toContain('Reason: no answer within 0.2 s');
    expect(server.requests).toHaveLength(ATTEMPTS);
  });

  it('nothing listening: a network error naming the URL, after the retries', async () => {
    const { server, cacheDir } = await setup();
    const endpoint = server.endpoint;
    await server.stop();
    let attempts = 0;
    const countingFetch: typeof fetch = (input, init) => {
      attempts++;
      return fetch(input, init);
    };
    const error = await errorOf(fetchIquiz(server, cacheDir, { endpoint, fetchImpl: countingFetch }));
    expect(attempts).toBe(ATTEMPTS);
    expect(error.message).toContain(
      `URL:    ${endpoint}${REPO_PATH}?Source=SDK&Revision=master&FilePath=IQ.jsonl&View=False`,
    );
    expect(error.message).toMatch(/Reason: network error: fetch failed \(ECONNREFUSED\)/);
  });
});

describe("the run's abort signal", () => {
  /** Sends the headers and the first bytes of IQ.jsonl, then nothing: a download that stalls half way. */
  const stall: Handler = (_request, response) => {
    response.writeHead(200, { 'content-length': iqBytes.length });
    response.write(iqBytes.subarray(0, 16));
  };

  it('aborting mid-download rejects at once with the reason, leaving no partial file and no retry', async () => {
    const { server, cacheDir, folder } = await setup();
    server.script.push(stall);
    const controller = new AbortController();
    const reason = new Error('interrupted by SIGINT');
    const started = Date.now();
    const outcome = resolveDatasetSource({
      dataset: 'iquiz',
      cacheDir,
      endpoint: server.endpoint,
      signal: controller.signal,
      onProgress: (event) => {
        if (event.kind === 'data') controller.abort(reason);
      },
    });
    await expect(outcome).rejects.toBe(reason);
    // The per-attempt timeout is 120 s; the abort must not wait for it.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.requests).toHaveLength(1);
    expect(await cacheListing(folder)).toEqual([]);
  });

  it('aborting during the pause before a retry rejects at once, without the second request', async () => {
    const { server, cacheDir, folder } = await setup();
    server.script.push((_request, response) => {
      response.writeHead(503);
      response.end();
    });
    const controller = new AbortController();
    const reason = new Error('interrupted by SIGTERM');
    const started = Date.now();
    const outcome = fetchIquiz(server, cacheDir, {
      retryDelayMs: 60_000,
      signal: controller.signal,
      onProgress: (event) => {
        if (event.kind === 'retry') setTimeout(() => controller.abort(reason), 20);
      },
    });
    await expect(outcome).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.requests).toHaveLength(1);
    expect(await cacheListing(folder)).toEqual([]);
  });

  it('aborting while waiting out a Retry-After rejects at once, without the second request', async () => {
    const { server, cacheDir } = await setup();
    server.script.push((_request, response) => {
      response.writeHead(429, { 'retry-after': '30' });
      response.end();
    });
    const controller = new AbortController();
    const reason = new Error('interrupted by SIGINT');
    const started = Date.now();
    const outcome = fetchIquiz(server, cacheDir, {
      signal: controller.signal,
      onProgress: (event) => {
        if (event.kind === 'retry') setTimeout(() => controller.abort(reason), 50);
      },
    });
    await expect(outcome).rejects.toBe(reason);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(server.requests).toHaveLength(1);
  });

  it('an already aborted signal makes no request; a cached dataset needs none anyway', async () => {
    const { server, cacheDir } = await setup();
    const reason = new Error('stopped');
    await expect(fetchIquiz(server, cacheDir, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(server.requests).toEqual([]);

    await fetchIquiz(server, cacheDir);
    const cached = await fetchIquiz(server, cacheDir, { signal: AbortSignal.abort(reason) });
    expect(cached.files.map((f) => f.fromCache)).toEqual([true, true]);
  });

  it('the per-attempt timeout still applies alongside the signal', async () => {
    const { server, cacheDir } = await setup();
    server.script.push(...repeated(stall, ATTEMPTS));
    const error = await errorOf(
      fetchIquiz(server, cacheDir, { timeoutMs: 200, signal: new AbortController().signal }),
    );
    expect(error.message).toContain('Reason: no answer within 0.2 s');
    expect(server.requests).toHaveLength(ATTEMPTS);
  });
});

describe('resolveDatasetSource', () => {
  it('uses dataset_path when given, relative to baseDir', async () => {
    const resolved = await resolveDatasetSource({
      dataset: 'iquiz',
      dataset_path: 'iquiz-like',
      baseDir: join(fixtureFolder, '..'),
    });
    expect(resolved).toEqual({ folder: fixtureFolder, origin: { kind: 'local', path: fixtureFolder } });
  });

  it('expands ~ in dataset_path and in cacheDir to the home folder', async () => {
    const { server } = await setup();
    const home = await mkdtemp(join(tmpdir(), 'evalrig-home-'));
    cleanups.push(() => rm(home, { recursive: true, force: true }));
    await cp(fixtureFolder, join(home, 'iquiz'), { recursive: true });
    const savedHome = process.env['HOME'];
    process.env['HOME'] = home;
    try {
      const local = await resolveDatasetSource({
        dataset: 'iquiz',
        dataset_path: '~/iquiz',
        baseDir: '/elsewhere',
      });
      expect(local.folder).toBe(join(home, 'iquiz'));

      const downloaded = await resolveDatasetSource({
        dataset: 'iquiz',
        cacheDir: '~/cache',
        endpoint: server.endpoint,
      });
      expect(downloaded.folder).toBe(join(home, 'cache', 'datasets', 'AI-ModelScope', 'IQuiz', 'master'));
      expect((await readdir(downloaded.folder)).sort()).toEqual(['EQ.jsonl', 'IQ.jsonl', 'manifest.json']);
    } finally {
      if (savedHome === undefined) delete process.env['HOME'];
      else process.env['HOME'] = savedHome;
    }
  });

  it('says when dataset_path does not exist or is a file', async () => {
    await expect(
      resolveDatasetSource({ dataset: 'iquiz', dataset_path: join(fixtureFolder, 'nope') }),
    ).rejects.toThrow(
      /dataset_path .*nope does not exist; check the eval's dataset_path \(a relative path starts at the plan's folder\)/,
    );
    await expect(
      resolveDatasetSource({ dataset: 'iquiz', dataset_path: join(fixtureFolder, 'IQ.jsonl') }),
    ).rejects.toThrow(/is a file; give the folder that holds the iquiz files/);
  });

  it('otherwise downloads IQuiz from ModelScope into the cache, ready for the loader', async () => {
    const { server, cacheDir, folder } = await setup();
    const resolved = await resolveDatasetSource({ dataset: 'iquiz', cacheDir, endpoint: server.endpoint });
    expect(resolved.folder).toBe(folder);
    expect(resolved.origin).toMatchObject({
      kind: 'modelscope',
      dataset: DATASET,
      revision: 'master',
      endpoint: server.endpoint,
    });
    expect(server.requests).toHaveLength(2);

    const dataset = await loadMcqDataset({ path: resolved.folder, name: 'iquiz', subsets: ['IQ', 'EQ'] });
    expect(dataset.samples).toHaveLength(6);
    expect(dataset.provenance.files.map((f) => f.sha256)).toEqual([sha256(eqBytes), sha256(iqBytes)]);
  });
});
