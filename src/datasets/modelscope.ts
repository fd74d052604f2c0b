import { ExitCode } from '../errors.js';
import { createHash } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pRetry from 'p-retry';
import { z } from 'zod';
import { temporaryPathFor, writeFileAtomic } from '../util/atomic-write.js';
import { delay } from '../util/delay.js';
import { describeNetworkError } from '../util/network-error.js';
import { defaultCacheDir, expandHome } from '../util/paths.js';
import { DatasetError } from './problems.js';
import { parseRetryAfter } from '../util/retry-after.js';

/**
 * Downloads files of a ModelScope dataset repository into evalrig's cache, the way the modelscope SDK's
 * `dataset_file_download` does (`modelscope/hub/file_download.py` in modelscope/modelscope), without the SDK: one
 * GET per file on the repo file endpoint.
 * Cache layout: `<cacheDir>/datasets/<namespace>/<name>/<revision>/<file>` plus `manifest.json` with the
 * sha256 of every file, so a file changed or damaged after download is noticed.
 */

const DEFAULT_MODELSCOPE_ENDPOINT = 'https://www.modelscope.cn';
const INTERNATIONAL_MODELSCOPE_DOMAIN = 'www.modelscope.ai';
const MANIFEST_NAME = 'manifest.json';
const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_RETRIES = 3;
const DEFAULT_RETRY_DELAY_MS = 1_000;
/** Backoff doubles from the first pause up to this. */
const MAX_RETRY_DELAY_MS = 30_000;
/** A server that asks for a longer pause (Retry-After) is not waited for: the error says so instead. */
const MAX_RETRY_AFTER_MS = 60_000;
/** A real error body is small; larger downloads are never inspected for one. */
const ERROR_BODY_MAX_BYTES = 64 * 1024;

export type ModelScopeProgress =
  | { kind: 'cached'; file: string; path: string }
  | { kind: 'stale'; file: string; path: string; reason: string }
  | { kind: 'download'; file: string; url: string; totalBytes?: number }
  | { kind: 'data'; file: string; receivedBytes: number; totalBytes?: number }
  | { kind: 'retry'; file: string; url: string; reason: string }
  | { kind: 'done'; file: string; path: string; bytes: number; sha256: string };

export interface ModelScopeFetchOptions {
  /** `<namespace>/<name>`, e.g. `AI-ModelScope/IQuiz`. */
  dataset: string;
  /** Paths inside the dataset repository, e.g. `IQ.jsonl`. */
  files: string[];
  /** Branch or tag; default `master`, the SDK's DEFAULT_DATASET_REVISION. */
  revision?: string;
  /** Default: `https://<MODELSCOPE_DOMAIN>` when that variable is set, else https://www.modelscope.cn. */
  endpoint?: string;
  /** Default: EVALRIG_CACHE, else ~/.cache/evalrig. `~/…` is the home folder. */
  cacheDir?: string;
  /** Never touch the network: use the cache or fail saying what is missing. */
  offline?: boolean;
  fetchImpl?: typeof fetch;
  onProgress?: (event: ModelScopeProgress) => void;
  /** Limit for one attempt, headers and body together. Default 120 s. */
  timeoutMs?: number;
  /** How often a download that failed with a 429, a 5xx or a network error is tried again. Default 3. */
  retries?: number;
  /**
   * Pause before the first retry; each further pause doubles, up to 30 s, each drawn between one and two times
   * that (jitter, so clients that failed together do not retry together). A longer Retry-After wins. Default 1 s.
   */
  retryDelayMs?: number;
  /**
   * The run's signal. Aborting stops the download in progress (or the pause before a retry) at once, leaves no
   * partial file, and rejects with the signal's reason, as the rest of the run does.
   */
  signal?: AbortSignal;
}

export interface ModelScopeFile {
  /** Path inside the dataset repository. */
  file: string;
  /** Where it lies on this machine. */
  path: string;
  sha256: string;
  bytes: number;
  /** The URL it was, or would have been, downloaded from. */
  url: string;
  fromCache: boolean;
}

export interface ModelScopeFetchResult {
  /** The cache folder that holds the files; hand it to a loader as a dataset path. */
  folder: string;
  dataset: string;
  revision: string;
  endpoint: string;
  files: ModelScopeFile[];
}

/** `MODELSCOPE_DOMAIN` names a host, as in the SDK; a value with a scheme is taken as it is. */
export function defaultModelScopeEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  const domain = env['MODELSCOPE_DOMAIN']?.trim();
  if (!domain) return DEFAULT_MODELSCOPE_ENDPOINT;
  return /^https?:\/\//.test(domain) ? domain : `https://${domain}`;
}

/** The SDK's `get_dataset_file_url`, parameters in the same order (`modelscope/hub/api.py`). */
export function modelScopeFileUrl(endpoint: string, dataset: string, revision: string, file: string): string {
  const query = new URLSearchParams({ Source: 'SDK', Revision: revision, FilePath: file, View: 'False' });
  return `${endpoint.replace(/\/+$/, '')}/api/v1/datasets/${dataset}/repo?${query.toString()}`;
}

function modelScopeCacheFolder(cacheDir: string, dataset: string, revision: string): string {
  const [namespace = '', name = ''] = dataset.split('/');
  // A revision may contain '/', which must not become a folder level.
  return join(cacheDir, 'datasets', namespace, name, encodeURIComponent(revision));
}

/** The message of a ModelScope JSON error body (`{"Code":…, "Message":…}`), or undefined when the text is not one. */
export function modelScopeErrorMessage(text: string): string | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== 'object' || body === null || !('Code' in body) || !('Message' in body)) {
    return undefined;
  }
  const { Code: code, Message: message } = body;
  const succeeded = 'Success' in body ? body.Success === true : String(code) === '200';
  if (succeeded) return undefined;
  return `${typeof message === 'string' && message ? message : '(no message)'} (Code ${String(code)})`;
}

// ---------------------------------------------------------------------------------------------------------

function checkRequest(dataset: string, revision: string, files: string[]): void {
  if (!/^[A-Za-z0-9][\w.-]*\/[A-Za-z0-9][\w.-]*$/.test(dataset)) {
    throw new DatasetError(
      `ModelScope dataset "${dataset}" is not of the form <namespace>/<name>, e.g. AI-ModelScope/IQuiz.`,
    );
  }
  if (revision.trim() === '' || revision === '.' || revision === '..') {
    throw new DatasetError(`ModelScope revision "${revision}" is not a branch or tag name.`);
  }
  for (const file of files) {
    const parts = file.split('/');
    if (file.includes('\\') || parts.some((part) => part === '' || part === '.' || part === '..')) {
      throw new DatasetError(
        `"${file}" is not a file path inside a dataset repository (use a/b.jsonl, without . or ..).`,
      );
    }
    if (file === MANIFEST_NAME) {
      throw new DatasetError(
        `A dataset file named ${MANIFEST_NAME} would overwrite evalrig's cache manifest.`,
      );
    }
  }
}

const ManifestSchema = z.object({
  dataset: z.string(),
  revision: z.string(),
  files: z.record(
    z.string(),
    z.object({
      sha256: z.string(),
      bytes: z.number(),
      url: z.string(),
      saved_at: z.string(),
      adopted: z.boolean().optional(),
    }),
  ),
});
type Manifest = z.infer<typeof ManifestSchema>;

/** A missing or unreadable manifest is an empty one: files found in the folder are then checksummed afresh. */
async function readManifest(path: string, dataset: string, revision: string): Promise<Manifest> {
  try {
    return ManifestSchema.parse(JSON.parse(await readFile(path, 'utf8')));
  } catch {
    return { dataset, revision, files: {} };
  }
}

async function sha256OfFile(path: string): Promise<{ sha256: string; bytes: number } | undefined> {
  let content: Buffer;
  try {
    content = await readFile(path);
  } catch {
    return undefined;
  }
  return { sha256: createHash('sha256').update(content).digest('hex'), bytes: content.length };
}

/** Why one attempt failed; `retryable` for 429, 5xx and network trouble, where a later try may work. */
class DownloadFailure extends Error {
  readonly status: number | undefined;
  /** How long the server asked to be left alone (Retry-After). */
  readonly retryAfterMs: number | undefined;

  constructor(
    readonly reason: string,
    readonly retryable: boolean,
    answer: { status?: number; retryAfterMs?: number } = {},
  ) {
    super(reason);
    this.status = answer.status;
    this.retryAfterMs = answer.retryAfterMs;
  }
}

/** A file system error (it names a syscall), as opposed to trouble on the wire. */
function isFileSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && 'syscall' in error;
}

interface DownloadRequest {
  file: string;
  url: string;
  target: string;
  fetchImpl: typeof fetch;
  timeoutMs: number;
  onProgress: (event: ModelScopeProgress) => void;
  /** The caller's: when it aborts, the attempt ends with its reason, not as a failure to retry. */
  signal: AbortSignal | undefined;
}

/** The caller's abort wins over any failure it caused (a cut body, a fetch AbortError): no retry, its reason. */
function stopIfAborted(request: DownloadRequest): void {
  request.signal?.throwIfAborted();
}

async function downloadOnce(request: DownloadRequest): Promise<{ sha256: string; bytes: number }> {
  const { file, url, target, fetchImpl, timeoutMs, onProgress } = request;
  stopIfAborted(request);
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout;
  let response: Response;
  try {
    response = await fetchImpl(url, { headers: { accept: '*/*', 'user-agent': 'evalrig' }, signal });
  } catch (error) {
    stopIfAborted(request);
    throw new DownloadFailure(describeNetworkError(error, timeoutMs), true);
  }
  if (!response.ok) {
    const said = modelScopeErrorMessage(await response.text().catch(() => ''));
    const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    const waitTooLong = retryAfterMs !== undefined && retryAfterMs > MAX_RETRY_AFTER_MS;
    throw new DownloadFailure(
      `${status}${said ? `; ModelScope says: ${said}` : ''}` +
        (waitTooLong ? `; it asks to wait ${Math.ceil(retryAfterMs / 1000)} s before trying again` : ''),
      (response.status === 429 || response.status >= 500) && !waitTooLong,
      { status: response.status, retryAfterMs },
    );
  }
  if (!response.body) throw new DownloadFailure('the answer has no body', true);

  // Content-Length counts compressed bytes when the body is encoded, so it can only be checked without encoding.
  const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  const totalBytes = !encoded && Number.isFinite(declared) ? declared : undefined;
  onProgress({ kind: 'download', file, url, totalBytes });

  await mkdir(dirname(target), { recursive: true });
  const temp = temporaryPathFor(target);
  const hash = createHash('sha256');
  let bytes = 0;
  try {
    const handle = await open(temp, 'w');
    try {
      for await (const chunk of response.body) {
        hash.update(chunk);
        bytes += chunk.byteLength;
        await handle.write(chunk);
        onProgress({ kind: 'data', file, receivedBytes: bytes, totalBytes });
      }
    } finally {
      await handle.close();
    }
    if (totalBytes !== undefined && bytes !== totalBytes) {
      throw new DownloadFailure(`the connection closed after ${bytes} of ${totalBytes} bytes`, true);
    }
    // ModelScope may answer 200 with a JSON error instead of the file.
    if (bytes <= ERROR_BODY_MAX_BYTES) {
      const said = modelScopeErrorMessage(await readFile(temp, 'utf8'));
      if (said) {
        throw new DownloadFailure(`ModelScope answered with an error instead of the file: ${said}`, false);
      }
    }
    await rename(temp, target);
    return { sha256: hash.digest('hex'), bytes };
  } catch (error) {
    stopIfAborted(request);
    if (error instanceof DownloadFailure || isFileSystemError(error)) throw error;
    throw new DownloadFailure(describeNetworkError(error, timeoutMs), true);
  } finally {
    await rm(temp, { force: true });
  }
}

interface RetryPolicy {
  retries: number;
  firstDelayMs: number;
}

/**
 * Retries what may pass on its own (429, 5xx, a reset or timed-out connection) with exponential backoff and
 * jitter; a refusal such as 404 or 401 fails at once. An abort ends the pause at once with the signal's reason.
 */
async function downloadWithRetry(
  request: DownloadRequest,
  policy: RetryPolicy,
): Promise<{ sha256: string; bytes: number }> {
  let attempts = 0;
  let retryAfterEndsAt = 0;
  try {
    return await pRetry(
      async () => {
        // Retry-After is the least the server asked for; the backoff pause already spent counts toward it.
        const stillToWait = retryAfterEndsAt - Date.now();
        if (stillToWait > 0) await delay(stillToWait, request.signal);
        attempts++;
        return downloadOnce(request);
      },
      {
        retries: policy.retries,
        minTimeout: policy.firstDelayMs,
        maxTimeout: MAX_RETRY_DELAY_MS,
        factor: 2,
        randomize: true,
        unref: true,
        signal: request.signal,
        shouldRetry: ({ error }) => {
          if (!(error instanceof DownloadFailure) || !error.retryable) return false;
          if (error.retryAfterMs !== undefined) retryAfterEndsAt = Date.now() + error.retryAfterMs;
          request.onProgress({ kind: 'retry', file: request.file, url: request.url, reason: error.reason });
          return true;
        },
      },
    );
  } catch (error) {
    if (error instanceof DownloadFailure && error.retryable) {
      const tries = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
      throw new DownloadFailure(`${error.reason} (gave up after ${tries})`, false, { status: error.status });
    }
    throw error;
  }
}

interface FailureContext {
  dataset: string;
  revision: string;
  files: string[];
  folder: string;
}

function whatToDo(context: FailureContext, refused: boolean): string[] {
  return [
    'What to do:',
    ...(refused
      ? ['  - check the dataset id, the revision and the file name (a private dataset is not supported);']
      : []),
    `  - or get ${context.files.join(', ')} another way and set dataset_path to the folder that holds them;`,
    `  - or copy them into ${context.folder};`,
    `  - outside mainland China, set MODELSCOPE_DOMAIN=${INTERNATIONAL_MODELSCOPE_DOMAIN} to use the international site.`,
  ];
}

function downloadError(error: unknown, file: string, url: string, context: FailureContext): DatasetError {
  const head = `Could not download ${file} of the ModelScope dataset ${context.dataset} (revision ${context.revision}).`;
  if (isFileSystemError(error)) {
    return new DatasetError(
      [
        head,
        `  Cache:  ${context.folder}`,
        `  Reason: cannot write there (${error.code ?? error.message})`,
        'What to do: set EVALRIG_CACHE to a folder you can write to, or set dataset_path to a folder holding the files.',
      ].join('\n'),
      ExitCode.runFailed,
    );
  }
  const failure = error instanceof DownloadFailure ? error : new DownloadFailure(String(error), false);
  // A 4xx other than 429 means the request itself is wrong (no such dataset, file or revision), not the network.
  const refused =
    failure.status !== undefined && failure.status >= 400 && failure.status < 500 && failure.status !== 429;
  return new DatasetError(
    [head, `  URL:    ${url}`, `  Reason: ${failure.reason}`, ...whatToDo(context, refused)].join('\n'),
    ExitCode.runFailed,
  );
}

function offlineError(missing: string[], changed: string[], context: FailureContext): DatasetError {
  const lines = [
    `Offline: the ModelScope dataset ${context.dataset} (revision ${context.revision}) is not complete in the cache.`,
  ];
  if (missing.length > 0) lines.push(`  Missing:  ${missing.join(', ')}`);
  if (changed.length > 0)
    lines.push(`  Changed since download (checksum differs from manifest.json): ${changed.join(', ')}`);
  lines.push(
    `  Looked in: ${context.folder}`,
    'What to do:',
    '  - run once with network access (without offline) to fill the cache;',
    `  - or set dataset_path to a folder that holds ${context.files.join(', ')};`,
    `  - or copy the files into ${context.folder}` +
      (changed.length > 0 ? ' (and delete its manifest.json entry for a file you replace on purpose).' : '.'),
  );
  return new DatasetError(lines.join('\n'));
}

/**
 * Makes the files available locally: a cached file whose checksum matches the manifest is used as it is; a file
 * found in the cache folder without a manifest entry (copied there by hand) is adopted; a missing file, or one
 * whose checksum no longer matches, is downloaded, except offline, where that is an error naming what to do.
 */
export async function fetchModelScopeFiles(options: ModelScopeFetchOptions): Promise<ModelScopeFetchResult> {
  const revision = options.revision ?? 'master';
  checkRequest(options.dataset, revision, options.files);
  const endpoint = (options.endpoint ?? defaultModelScopeEndpoint()).replace(/\/+$/, '');
  const cacheDir = options.cacheDir === undefined ? defaultCacheDir() : expandHome(options.cacheDir);
  const folder = modelScopeCacheFolder(cacheDir, options.dataset, revision);
  const onProgress = options.onProgress ?? (() => undefined);
  const context: FailureContext = { dataset: options.dataset, revision, files: options.files, folder };
  const manifestPath = join(folder, MANIFEST_NAME);
  const manifest = await readManifest(manifestPath, options.dataset, revision);

  const results: ModelScopeFile[] = [];
  const missing: string[] = [];
  const changed: string[] = [];
  for (const file of options.files) {
    const path = join(folder, ...file.split('/'));
    const url = modelScopeFileUrl(endpoint, options.dataset, revision, file);
    const cached = await sha256OfFile(path);
    const recorded = manifest.files[file];

    if (cached && (!recorded || recorded.sha256 === cached.sha256)) {
      if (!recorded) {
        manifest.files[file] = { ...cached, url, saved_at: new Date().toISOString(), adopted: true };
        writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
      }
      onProgress({ kind: 'cached', file, path });
      results.push({ file, path, ...cached, url, fromCache: true });
      continue;
    }
    if (options.offline) {
      (cached ? changed : missing).push(file);
      continue;
    }
    if (cached) onProgress({ kind: 'stale', file, path, reason: 'checksum differs from manifest.json' });

    let downloaded: { sha256: string; bytes: number };
    try {
      downloaded = await downloadWithRetry(
        {
          file,
          url,
          target: path,
          fetchImpl: options.fetchImpl ?? fetch,
          timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
          onProgress,
          signal: options.signal,
        },
        {
          retries: options.retries ?? DEFAULT_RETRIES,
          firstDelayMs: options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS,
        },
      );
    } catch (error) {
      // Stopped by the caller: not a download problem to explain, and nothing to retry.
      options.signal?.throwIfAborted();
      throw downloadError(error, file, url, context);
    }
    manifest.files[file] = { ...downloaded, url, saved_at: new Date().toISOString() };
    writeFileAtomic(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
    onProgress({ kind: 'done', file, path, ...downloaded });
    results.push({ file, path, ...downloaded, url, fromCache: false });
  }

  if (missing.length > 0 || changed.length > 0) throw offlineError(missing, changed, context);
  return { folder, dataset: options.dataset, revision, endpoint, files: results };
}
