import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  locateExecutable,
  pythonOfCommand,
  pythonOfExecutable,
} from '../../../src/util/python-of-executable.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'evalrig-python-of-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A file at `root/<relative>` with `content`, executable unless told otherwise. */
function file(relative: string, content: string, mode = 0o755): string {
  const path = join(root, relative);
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, content);
  chmodSync(path, mode);
  return path;
}

/** A link at `root/<relative>` to `target`. */
function link(relative: string, target: string): string {
  const path = join(root, relative);
  mkdirSync(join(path, '..'), { recursive: true });
  symlinkSync(target, path);
  return path;
}

const pathOf = (...dirs: string[]) => dirs.map((dir) => join(root, dir)).join(delimiter);

describe('locateExecutable', () => {
  it('takes a path as given when it is a file, and nothing for a missing path or a folder', () => {
    const tool = file('given/tool', '#!/bin/sh\n');
    expect(locateExecutable(tool, undefined)).toBe(tool);
    expect(locateExecutable(join(root, 'given/absent'), undefined)).toBeNull();
    expect(locateExecutable(join(root, 'given'), undefined)).toBeNull();
  });

  it('finds a name in the first PATH folder holding an executable file of that name, as the shell does', () => {
    file('path-a/tool', '#!/bin/sh\n', 0o644);
    mkdirSync(join(root, 'path-b/tool'), { recursive: true });
    const runnable = file('path-c/tool', '#!/bin/sh\n');
    file('path-d/tool', '#!/bin/sh\n');
    expect(locateExecutable('tool', pathOf('path-a', 'path-b', 'path-c', 'path-d'))).toBe(runnable);
  });

  it('finds nothing for a name that no PATH folder holds, or without a PATH', () => {
    expect(locateExecutable('no-such-tool', pathOf('path-a', 'path-c'))).toBeNull();
    expect(locateExecutable('tool', undefined)).toBeNull();
    expect(locateExecutable('tool', '')).toBeNull();
  });
});

describe('pythonOfExecutable', () => {
  it("is the interpreter the script's first line names, even where a python sits beside it", () => {
    const script = file('shebang/bin/vllm', '#!/opt/venvs/vllm/bin/python3.12\nimport sys\n');
    file('shebang/bin/python3', '#!/bin/sh\n');
    expect(pythonOfExecutable(script)).toBe('/opt/venvs/vllm/bin/python3.12');
  });

  it('is the python3 beside a script of any other first line, before a python', () => {
    const shell = file('beside/bin/vllm', '#!/bin/sh\nexec python3 -m vllm "$@"\n');
    const viaEnv = file('beside/bin/evalscope', '#!/usr/bin/env python3\n');
    const python3 = file('beside/bin/python3', '#!/bin/sh\n');
    file('beside/bin/python', '#!/bin/sh\n');
    expect(pythonOfExecutable(shell)).toBe(python3);
    // `env python3` would take whichever Python PATH finds: the folder's own is the environment's.
    expect(pythonOfExecutable(viaEnv)).toBe(python3);
  });

  it('is the python beside a binary where there is no python3', () => {
    const binary = file('conda/bin/vllm', '\x7fELF\x02\x01\x01\0');
    const python = file('conda/bin/python', '#!/bin/sh\n');
    expect(pythonOfExecutable(binary)).toBe(python);
  });

  it('is none where no Python is tied to it, or the file is missing', () => {
    const lonely = file('lonely/vllm', '#!/bin/sh\n');
    expect(pythonOfExecutable(lonely)).toBeNull();
    expect(pythonOfExecutable(join(root, 'lonely/absent'))).toBeNull();
  });

  it("follows a link to the environment's folder before the link's own, which may hold the system's python3", () => {
    const real = file('venv-linked/bin/evalscope', '#!/bin/sh\n');
    const venvPython = file('venv-linked/bin/python', '#!/bin/sh\n');
    file('usr-local-bin/python3', '#!/bin/sh\n');
    const linked = link('usr-local-bin/evalscope', real);
    expect(pythonOfExecutable(linked)).toBe(venvPython);
  });

  it("falls back to the link's folder where the linked file has no python beside it", () => {
    const real = file('store/vllm', '#!/bin/sh\n');
    const linked = link('profile/bin/vllm', real);
    const python3 = file('profile/bin/python3', '#!/bin/sh\n');
    expect(pythonOfExecutable(linked)).toBe(python3);
  });
});

describe('pythonOfCommand', () => {
  it('is the Python of the file PATH finds for a name, links followed', () => {
    const real = file('venv-path/bin/vllm', '#!/bin/sh\n');
    const venvPython3 = file('venv-path/bin/python3', '#!/bin/sh\n');
    link('linked-bin/vllm', real);
    file('linked-bin/python3', '#!/bin/sh\n');
    expect(pythonOfCommand('vllm', pathOf('empty', 'linked-bin'))).toBe(venvPython3);
  });

  it('reads the first line of a script PATH finds through a link', () => {
    const real = file('venv-shebang/bin/evalscope', '#!/srv/env/bin/python\n');
    link('shebang-bin/evalscope', real);
    expect(pythonOfCommand('evalscope', pathOf('shebang-bin'))).toBe('/srv/env/bin/python');
  });

  it('is none for a command that is not found', () => {
    expect(pythonOfCommand('no-such-tool', pathOf('linked-bin'))).toBeNull();
  });
});
