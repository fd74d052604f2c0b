import { closeSync, openSync, readdirSync, readFileSync, readSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/**
 * Where vLLM's version can be read without running vLLM: the executable's own Python and the package metadata
 * beside it. pip writes `site-packages/vllm-<version>.dist-info/METADATA` (the core metadata `Version:` field,
 * packaging.python.org "Recording installed projects") and a console script whose first line names the
 * interpreter of its environment.
 */

/** The file a command would run: a path as given, else the first executable match on PATH; null when none. */
export function locateExecutable(command: string, pathVariable: string | undefined): string | null {
  const candidates = command.includes('/')
    ? [command]
    : (pathVariable ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, command));
  for (const candidate of candidates) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not there: the next PATH entry.
    }
  }
  return null;
}

/** The interpreter of a `#!/path/to/python3` first line; null for any other first line (`#!/bin/sh`, a binary). */
function shebangPython(file: string): string | null {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const head = Buffer.alloc(256);
    const read = readSync(fd, head, 0, head.length, 0);
    const firstLine = head.subarray(0, read).toString('utf8').split('\n', 1)[0] ?? '';
    const interpreter = /^#!\s*(\S+)/.exec(firstLine)?.[1];
    return interpreter?.startsWith('/') && /\/python[\d.]*$/.test(interpreter) ? interpreter : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The Python of the environment the executable belongs to: its script's interpreter, else a `python3`/`python`
 * beside it (a venv's or conda's bin folder, symlinks followed). Null when nothing ties one to it: a Python from
 * PATH could belong to another installation.
 */
export function pythonOfExecutable(executable: string): string | null {
  const fromShebang = shebangPython(executable);
  if (fromShebang) return fromShebang;
  let folders: string[];
  try {
    folders = [...new Set([dirname(executable), dirname(realpathSync(executable))])];
  } catch {
    return null;
  }
  for (const folder of folders)
    for (const name of ['python3', 'python']) if (isFile(join(folder, name))) return join(folder, name);
  return null;
}

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
