import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findEvalScopeVersion, pythonOf } from '../../../../src/eval/evalscope/version.js';
import { EvalScopeEvalSchema } from '../../../../src/plan/schema.js';
import { pidsInGroup } from '../../../sim/helpers.js';

function script(dir: string, name: string, body: string): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

/** A virtual environment's bin/ with an evalscope and, unless told otherwise, its python. */
function venvBin(withPython = true): string {
  const bin = join(mkdtempSync(join(tmpdir(), 'evalscope-venv-')), 'bin');
  script(bin, 'evalscope', 'exit 2');
  if (withPython) script(bin, 'python', 'echo 0.17.1');
  return bin;
}

const PATH = process.env['PATH'];
afterEach(() => {
  process.env['PATH'] = PATH;
});

describe('the Python that owns an EvalScope executable', () => {
  it('is the one named', () => {
    expect(pythonOf(['python3.11', '-m', 'evalscope.cli.cli'])).toBe('python3.11');
  });

  it("is the python beside a path's evalscope, or beside the one PATH finds", () => {
    const bin = venvBin();
    expect(pythonOf([join(bin, 'evalscope')])).toBe(join(bin, 'python'));
    process.env['PATH'] = `${bin}${delimiter}${PATH ?? ''}`;
    expect(pythonOf(['evalscope'])).toBe(join(bin, 'python'));
  });

  it("follows a link to the virtual environment's evalscope, as an image's /usr/local/bin has it", () => {
    const bin = venvBin();
    const linked = mkdtempSync(join(tmpdir(), 'evalscope-linked-'));
    symlinkSync(join(bin, 'evalscope'), join(linked, 'evalscope'));
    process.env['PATH'] = `${linked}${delimiter}${PATH ?? ''}`;
    expect(pythonOf(['evalscope'])).toBe(join(bin, 'python'));
    expect(pythonOf([join(linked, 'evalscope')])).toBe(join(bin, 'python'));
  });

  it('is python3 where no python sits beside it (a system or user install)', () => {
    const bin = venvBin(false);
    expect(pythonOf([join(bin, 'evalscope')])).toBe('python3');
    process.env['PATH'] = `${bin}${delimiter}${PATH ?? ''}`;
    expect(pythonOf(['evalscope'])).toBe('python3');
  });
});

describe('asking EvalScope its version', () => {
  const spec = (executable: string) =>
    EvalScopeEvalSchema.parse({ name: 'es', backend: 'evalscope', datasets: ['iquiz'], executable });

  it('falls back to the package metadata of the python beside it where --version is refused', async () => {
    const bin = venvBin();
    const found = await findEvalScopeVersion(spec(join(bin, 'evalscope')));
    expect(found).toMatchObject({ source: 'package metadata', version: { raw: '0.17.1' } });
  });

  it('gives up on a --version that hangs after its time-out, the hung process killed', async () => {
    const bin = venvBin(false);
    const hung = script(bin, 'evalscope', `echo $$ > "$0.pid"\nexec sleep 30`);
    const started = Date.now();
    await expect(findEvalScopeVersion(spec(hung), { timeoutMs: 500 })).rejects.toThrow(
      /no answer within 0\.5 s[\s\S]*set the eval's `version`/,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(pidsInGroup(Number(readFileSync(`${hung}.pid`, 'utf8')))).toEqual([]);
  });

  it('stops at once when interrupted, the probe killed, without asking Python next', async () => {
    const bin = venvBin();
    const hung = script(bin, 'evalscope', `echo $$ > "$0.pid"\nexec sleep 30`);
    script(bin, 'python', `touch "$0.asked"\necho 1.0.0`);
    const controller = new AbortController();
    const asking = findEvalScopeVersion(spec(hung), { signal: controller.signal });
    const deadline = Date.now() + 5_000;
    while (!existsSync(`${hung}.pid`) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    controller.abort(new Error('stopped by SIGINT'));
    await expect(asking).rejects.toThrow('stopped by SIGINT');
    expect(pidsInGroup(Number(readFileSync(`${hung}.pid`, 'utf8')))).toEqual([]);
    expect(existsSync(join(bin, 'python.asked'))).toBe(false);
  });
});
