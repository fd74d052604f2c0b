import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../util/atomic-write.js';
import { defaultCacheDir } from '../util/paths.js';

/**
 * Versions found earlier, per executable: asking vLLM costs seconds (`vllm --version` imports all of it), and the
 * answer only changes when vLLM is reinstalled, which rewrites the executable (a new mtime or size). The variables
 * that can change which vLLM runs or what it reports (PATH, the Python ones, VLLM_*) are part of the key too.
 */

export interface CachedVersion {
  version: string;
  source: 'metadata' | 'python' | 'cli';
  detail: string;
}

interface CacheEntry extends CachedVersion {
  /** The executable's mtime and size when the version was found. */
  stamp: string;
}

const CACHE_FILE = 'vllm-versions.json';

/** Variables that decide which vLLM an executable runs, or what it reports. */
function relevantEnv(env: Readonly<Record<string, string | undefined>>): string {
  return Object.keys(env)
    .filter(
      (name) =>
        name === 'PATH' ||
        name === 'VIRTUAL_ENV' ||
        name === 'CONDA_PREFIX' ||
        name.startsWith('PYTHON') ||
        name.startsWith('VLLM_'),
    )
    .sort()
    .map((name) => `${name}=${env[name] ?? ''}`)
    .join('\n');
}

export interface CacheKey {
  /** Where the entry is stored: the executable, the Python asked and the environment. */
  id: string;
  /** The executable as it is now; an entry with another stamp is stale. */
  stamp: string;
}

/** The key of an executable file, or null when it is not a file (a command not found is never cached). */
export function cacheKeyOf(
  executable: string,
  python: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): CacheKey | null {
  let stamp: string;
  try {
    const info = statSync(executable);
    if (!info.isFile()) return null;
    stamp = `${info.mtimeMs}:${info.size}`;
  } catch {
    return null;
  }
  const id = createHash('sha256')
    .update([executable, python ?? '', relevantEnv(env)].join('\0'))
    .digest('hex')
    .slice(0, 32);
  return { id, stamp };
}

function cacheFile(cacheDir: string): string {
  return join(cacheDir, CACHE_FILE);
}

function readEntries(cacheDir: string): Record<string, CacheEntry> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(cacheFile(cacheDir), 'utf8'));
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, CacheEntry>) : {};
  } catch {
    return {};
  }
}

export function readCachedVersion(key: CacheKey, cacheDir = defaultCacheDir()): CachedVersion | null {
  const entry = readEntries(cacheDir)[key.id];
  if (!entry || entry.stamp !== key.stamp || typeof entry.version !== 'string') return null;
  return { version: entry.version, source: entry.source, detail: entry.detail };
}

/** Never throws: a read-only cache only costs the next run the detection again. */
export function writeCachedVersion(key: CacheKey, found: CachedVersion, cacheDir = defaultCacheDir()): void {
  try {
    mkdirSync(cacheDir, { recursive: true });
    const entries = readEntries(cacheDir);
    entries[key.id] = { ...found, stamp: key.stamp };
    writeJsonAtomic(cacheFile(cacheDir), entries);
  } catch {
    // Only the saving is lost.
  }
}
