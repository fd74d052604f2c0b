import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { FIXTURES } from '../paths.js';

export const FAKE_NVIDIA_SMI = join(FIXTURES, 'nvidia-smi', 'fake-nvidia-smi');

/** A shell script at `path` that runs `body`. */
export function executable(path: string, body: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

export interface HostWorkspace {
  /** The folder, made before the file's tests and removed after them. */
  dir(): string;
  /** A plan in the folder with these `server:` lines, one IQuiz eval and `output.dir: out`. */
  writePlan(name: string, server: string): string;
}

/**
 * A folder like a user's, for the tests of one file: two fake vLLMs (`venv/bin/vllm` says 0.9.2, `sim/bin/vllm`
 * says 0.10.1) and a small model folder (`models/tiny`).
 */
export function useHostWorkspace(): HostWorkspace {
  let dir = '';
  beforeAll(() => {
    chmodSync(FAKE_NVIDIA_SMI, 0o755);
    dir = mkdtempSync(join(tmpdir(), 'evalrig-doctor-'));
    executable(join(dir, 'venv', 'bin', 'vllm'), '[ "$1" = "--version" ] && echo 0.9.2');
    executable(join(dir, 'sim', 'bin', 'vllm'), '[ "$1" = "--version" ] && echo 0.10.1');
    mkdirSync(join(dir, 'models', 'tiny'), { recursive: true });
    writeFileSync(join(dir, 'models', 'tiny', 'config.json'), '{}');
    writeFileSync(join(dir, 'models', 'tiny', 'model.safetensors'), Buffer.alloc(4096));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return {
    dir: () => dir,
    writePlan(name, server) {
      const file = join(dir, `${name}.yaml`);
      writeFileSync(
        file,
        [
          `name: ${name}`,
          'server:',
          ...server.split('\n').map((line) => `  ${line}`),
          'evals:',
          '  - {name: iq, backend: native, dataset: iquiz, dataset_path: data}',
          'output: {dir: out}',
          '',
        ].join('\n'),
      );
      return file;
    },
  };
}
