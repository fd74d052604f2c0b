import { readdirSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Where vLLM's version can be read without running vLLM: the package metadata of the executable's own Python
 * (`util/python-of-executable.ts`). pip writes `site-packages/vllm-<version>.dist-info/METADATA` (the core
 * metadata `Version:` field, packaging.python.org "Recording installed projects").
 */

/**
 * vLLM's version from the metadata file of the Python's environment (`<prefix>/lib/python3.X/site-packages`);
 * null when there is not exactly one vLLM there (none, or stale copies a broken upgrade left behind).
 */
export function versionFromMetadata(python: string): { version: string; file: string } | null {
  const prefix = dirname(dirname(python));
  const found: string[] = [];
  for (const lib of ['lib', 'lib64']) {
    let pythons: string[];
    try {
      pythons = readdirSync(join(prefix, lib)).filter((name) => name.startsWith('python'));
    } catch {
      continue;
    }
    for (const pythonDir of pythons) {
      const sitePackages = join(prefix, lib, pythonDir, 'site-packages');
      let entries: string[];
      try {
        entries = readdirSync(sitePackages);
      } catch {
        continue;
      }
      for (const entry of entries)
        if (/^vllm-\d[^/]*\.dist-info$/.test(entry)) found.push(join(sitePackages, entry, 'METADATA'));
    }
  }
  // lib64 is often a symlink to lib: the same file twice is one installation.
  const files = [...new Set(found.map((file) => safeRealpath(file)))].filter((file) => file !== null);
  const [file] = files;
  if (files.length !== 1 || !file) return null;
  try {
    // The headers end at the first blank line; the long description after it may quote other `Version:` lines.
    const headers = readFileSync(file, 'utf8').split(/\r?\n\r?\n/, 1)[0] ?? '';
    const version = /^Version:\s*(\S+)\s*$/m.exec(headers)?.[1];
    return version ? { version, file } : null;
  } catch {
    return null;
  }
}

function safeRealpath(path: string): string | null {
  try {
    return realpathSync(path);
  } catch {
    return null;
  }
}
