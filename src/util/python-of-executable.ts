import { accessSync, closeSync, constants, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';

/**
 * The Python of the environment a console script belongs to (vLLM's `vllm`, EvalScope's `evalscope`). pip writes
 * such a script with a first line naming its environment's interpreter (packaging.python.org "Binary distribution
 * format": `#!python` is rewritten on install), into the environment's bin/ folder beside its `python3`/`python`
 * (docs.python.org "venv").
 */

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return isFile(path);
  } catch {
    return false;
  }
}

/**
 * The file a command would run: a path as given (when it is a file), else the first executable file of that name
 * on PATH, as the shell finds it; null when none.
 */
export function locateExecutable(command: string, pathVariable: string | undefined): string | null {
  if (command.includes('/')) return isFile(command) ? command : null;
  const dirs = (pathVariable ?? '').split(delimiter).filter(Boolean);
  return dirs.map((dir) => join(dir, command)).find(isExecutableFile) ?? null;
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
    // `#!/usr/bin/env python3` is left out: it names whichever Python PATH finds, maybe another installation's.
    return interpreter?.startsWith('/') && /\/python[\d.]*$/.test(interpreter) ? interpreter : null;
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * The Python of the environment an executable file belongs to: its script's interpreter, else a `python3` or
 * `python` in its folder. The folder of the file a link points at comes first: an image may link a virtual
 * environment's bin/vllm into /usr/local/bin, beside the system's python3. Null when nothing ties a Python to it:
 * one from PATH could belong to another installation.
 */
export function pythonOfExecutable(executable: string): string | null {
  const fromShebang = shebangPython(executable);
  if (fromShebang) return fromShebang;
  let folders: string[];
  try {
    folders = [...new Set([dirname(realpathSync(executable)), dirname(executable)])];
  } catch {
    return null;
  }
  for (const folder of folders)
    for (const name of ['python3', 'python']) if (isFile(join(folder, name))) return join(folder, name);
  return null;
}

/** `pythonOfExecutable` of the file a command runs (`locateExecutable`); null when neither is found. */
export function pythonOfCommand(command: string, pathVariable: string | undefined): string | null {
  const located = locateExecutable(command, pathVariable);
  return located === null ? null : pythonOfExecutable(located);
}
