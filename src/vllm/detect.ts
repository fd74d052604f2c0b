import { pythonPackageVersionSnippet, runProbe, type ProbeOptions, type ProbeResult } from '../util/probe.js';
import { parseVersion, type Version } from '../util/pep440.js';
import { locateExecutable, pythonOfExecutable } from '../util/python-of-executable.js';
import { cacheKeyOf, readCachedVersion, writeCachedVersion, type CachedVersion } from './detect-cache.js';
import { versionFromMetadata } from './detect-metadata.js';

export type VllmDetection =
  | { version: Version; source: 'pinned' | 'metadata' | 'python' | 'cli'; detail: string }
  | { version: null; detail: string };

export interface DetectOptions {
  /** `server.executable`, already resolved against the plan folder. */
  executable: string;
  /**
   * `server.python`, the interpreter of vLLM's environment. Default: the executable's own (its script's first
   * line, or a `python3` beside it), else `python3` from PATH, asked last since it may belong to another vLLM.
   */
  python?: string;
  /** `server.vllm_version`: when given, no process is started. */
  pinned?: string;
  env?: Readonly<Record<string, string | undefined>>;
  cwd?: string;
  timeoutMs?: number;
  signal?: AbortSignal;
}

type Found = CachedVersion & { parsed: Version };

/** One way of finding the version: a version, or why not in a few words. */
type Attempt = () => Promise<Found | string>;

function whyNoVersion(result: ProbeResult): string {
  if (!result.ok) return result.message;
  const shown = result.stdout.trim().split('\n').at(-1) ?? '';
  return `printed no version${shown ? ` (last line: ${shown.slice(0, 120)})` : ''}`;
}

function fromMetadata(python: string): Attempt {
  return () => {
    const found = versionFromMetadata(python);
    const parsed = found ? parseVersion(found.version) : null;
    if (!found || !parsed)
      return Promise.resolve(`${python}: no single vllm-*.dist-info in its site-packages`);
    return Promise.resolve({
      version: parsed.raw,
      parsed,
      source: 'metadata',
      detail: `vllm ${parsed.raw} (package metadata, ${found.file})`,
    });
  };
}

/** `importlib.metadata` through Python: reads the same metadata without importing vLLM (any version). */
function fromPython(python: string, probe: ProbeOptions): Attempt {
  return async () => {
    const result = await runProbe(python, ['-c', pythonPackageVersionSnippet('vllm')], probe);
    const parsed = result.ok ? parseVersion(result.stdout) : null;
    if (parsed)
      return {
        version: parsed.raw,
        parsed,
        source: 'python',
        detail: `${python}: vllm ${parsed.raw} (package metadata)`,
      };
    if (result.ok) return `${python}: ${whyNoVersion(result)}`;
    return `${python}: ${result.output.includes('PackageNotFoundError') ? 'vllm is not installed' : result.message}`;
  };
}

/** `vllm --version` (from v0.6.5, vLLM PR #10369): imports all of vLLM, seconds on a GPU host. */
function fromCli(executable: string, probe: ProbeOptions): Attempt {
  return async () => {
    const result = await runProbe(executable, ['--version'], probe);
    const parsed = result.ok ? parseVersion(result.stdout) : null;
    if (parsed)
      return { version: parsed.raw, parsed, source: 'cli', detail: `${executable} --version: ${parsed.raw}` };
    return `${executable} --version: ${whyNoVersion(result)}`;
  };
}

/** The cheapest source first; the first version found wins, else every reason why not. */
async function detectUncached(options: DetectOptions, located: string | null): Promise<Found | string> {
  const probe: ProbeOptions = {
    env: options.env,
    cwd: options.cwd,
    timeoutMs: options.timeoutMs,
    signal: options.signal,
  };
  const tied = options.python ?? (located ? pythonOfExecutable(located) : null);
  const attempts: Attempt[] = tied
    ? [
        ...(tied.includes('/') ? [fromMetadata(tied)] : []),
        fromPython(tied, probe),
        fromCli(options.executable, probe),
      ]
    : [fromCli(options.executable, probe), fromPython('python3', probe)];
  const reasons: string[] = [];
  for (const attempt of attempts) {
    const outcome = await attempt();
    if (typeof outcome !== 'string') return outcome;
    reasons.push(outcome);
  }
  return reasons.join('; ');
}

/** Detections in flight, so that the preflight running beside the flag rendering shares one probe. */
const inFlight = new Map<string, Promise<VllmDetection>>();

async function detectAndRemember(options: DetectOptions): Promise<VllmDetection> {
  const env = { ...process.env, ...options.env };
  const located = locateExecutable(options.executable, env['PATH']);
  const key = located ? cacheKeyOf(located, options.python, env) : null;
  const cached = key ? readCachedVersion(key) : null;
  const cachedVersion = cached ? parseVersion(cached.version) : null;
  if (cached && cachedVersion)
    return { version: cachedVersion, source: cached.source, detail: `${cached.detail} (cached)` };
  const outcome = await detectUncached(options, located);
  if (typeof outcome === 'string') return { version: null, detail: outcome };
  const { parsed, ...found } = outcome;
  if (key) writeCachedVersion(key, found);
  return { version: parsed, source: found.source, detail: found.detail };
}

/**
 * Finds the vLLM version: the plan's pin, else the cheapest source that has it: the package metadata of the
 * executable's Python read as a file, the same through `python -c` (importlib.metadata), then `vllm --version`.
 * A version found is kept in evalrig's cache per executable (its mtime and size), so the next run reads it there.
 * Never throws: a missing binary gives `version: null` and the reason.
 */
export function detectVllmVersion(options: DetectOptions): Promise<VllmDetection> {
  if (options.pinned !== undefined) {
    const pinned = parseVersion(options.pinned);
    if (pinned)
      return Promise.resolve({
        version: pinned,
        source: 'pinned',
        detail: `pinned by server.vllm_version: ${pinned.raw}`,
      });
    return Promise.resolve({
      version: null,
      detail: `server.vllm_version "${options.pinned}" is not a version such as 0.9.2 or 0.10.1.1`,
    });
  }
  const flightKey = JSON.stringify([options.executable, options.python, options.env, options.cwd]);
  const running = inFlight.get(flightKey);
  if (running) return running;
  const detection = detectAndRemember(options).finally(() => inFlight.delete(flightKey));
  inFlight.set(flightKey, detection);
  return detection;
}
